import type { DelegationActor } from '../../context/principal.js';
import { ClaimsRejection } from '../jwt/validate-claims.js';

function actorOf(value: unknown): DelegationActor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ClaimsRejection('act is not an object');
  const { act: _nested, ...claims } = value as Record<string, unknown>;
  const subject = claims.sub;
  const clientId = claims.client_id;
  if (subject !== undefined && (typeof subject !== 'string' || subject.length === 0)) throw new ClaimsRejection('act.sub is not a non-empty string');
  if (clientId !== undefined && (typeof clientId !== 'string' || clientId.length === 0)) throw new ClaimsRejection('act.client_id is not a non-empty string');
  if (subject === undefined && clientId === undefined) throw new ClaimsRejection('act names no actor');
  return Object.freeze({ subject, clientId, claims: Object.freeze(claims) });
}

/**
 * The delegation chain of a token (RFC 8693 §4.1), outermost (current) actor first: `act`, then
 * `act.act`, ... Each level must be an object naming its actor by `sub` or `client_id`.
 * @throws {ClaimsRejection} for a malformed level, or more than `maxActors` levels (read at most one past it).
 */
export function readDelegationChain(payload: Readonly<Record<string, unknown>>, maxActors: number): readonly DelegationActor[] {
  const actors: DelegationActor[] = [];
  let level: unknown = payload.act;
  while (level !== undefined) {
    if (actors.length === maxActors) throw new ClaimsRejection(`delegation chain longer than delegation.maxActors (${maxActors})`);
    actors.push(actorOf(level));
    level = (level as Record<string, unknown>).act;
  }
  return Object.freeze(actors);
}

/**
 * `delegation.allowedActors`: only the outermost actor decides (RFC 8693 §4.1: prior actors are
 * informational); a token without `act` is not delegated and passes.
 */
export function outermostActorAllowed(actors: readonly DelegationActor[], allowed: ReadonlySet<string> | undefined): boolean {
  const current = actors[0];
  if (allowed === undefined || current === undefined) return true;
  return (current.subject !== undefined && allowed.has(current.subject)) || (current.clientId !== undefined && allowed.has(current.clientId));
}
