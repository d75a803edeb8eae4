import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { AuthorizeRequest } from './authorize-request.js';
import { sameText } from './client-authentication.js';

/** The page a pending authorization request is waiting on. */
export type InteractionStep = 'sign-in' | 'consent' | 'mfa';

/**
 * An authorization request waiting for the user: kept server-side under a random id, so the
 * browser's forms carry only that id and a per-interaction anti-CSRF value.
 */
export interface Interaction {
  readonly id: string;
  readonly csrf: string;
  readonly request: AuthorizeRequest;
  /** The page shown last: the only step a form may answer. */
  awaiting: InteractionStep;
  /** True once the user entered a password in this interaction (satisfies `prompt=login`). */
  signedIn: boolean;
  /** True once the user accepted the consent page in this interaction (satisfies `prompt=consent`). */
  consented: boolean;
  /** Wrong passwords so far. */
  failures: number;
}

/** How long the user has to finish an interaction (10 minutes). */
const INTERACTION_TTL_MS = 10 * 60 * 1000;
/** Wrong passwords allowed per interaction. */
export const MAX_SIGN_IN_FAILURES = 5;

/** Pending interactions of one authority (expire after 10 minutes; at most 10,000). */
export class Interactions {
  private readonly pending = new LRUCache<string, Interaction>({ max: 10_000, ttl: INTERACTION_TTL_MS });

  /** Starts an interaction for `request`, waiting on `awaiting`. */
  start(request: AuthorizeRequest, awaiting: InteractionStep): Interaction {
    const interaction: Interaction = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      request,
      awaiting,
      signedIn: false,
      consented: false,
      failures: 0,
    };
    this.pending.set(interaction.id, interaction);
    return interaction;
  }

  /** The live interaction a form names, when its `csrf` and `step` match; otherwise `undefined`. */
  find(form: Readonly<Record<string, string>>): Interaction | undefined {
    const interaction = this.pending.get(form.interaction ?? '', { updateAgeOnGet: false });
    if (!interaction || !sameText(form.csrf ?? '', interaction.csrf) || form.step !== interaction.awaiting) return undefined;
    return interaction;
  }

  /** Ends an interaction (its forms stop working). */
  end(interaction: Interaction): void {
    this.pending.delete(interaction.id);
  }
}
