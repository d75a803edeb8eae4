import { AuthError } from '@azure/msal-node';
import type { DiscoveryAnswer } from './deadline-network-client.js';

/** msal-node's errors for an authority it cannot use: metadata missing, unreadable, or an issuer it does not trust. */
export function isResolutionFailure(error: unknown): boolean {
  return error instanceof AuthError && (error.errorCode === 'endpoints_resolution_error' || error.errorCode === 'issuer_validation_failed');
}

/** Why msal refused an authority; `transient` when the discovery request failed rather than its content. */
export interface ResolutionFailure {
  readonly reason: string;
  readonly transient: boolean;
}

/** Why msal refused an authority, from the discovery answer it got (msal's own error does not say). */
export function explainResolutionFailure(seen: { url: string; answer: DiscoveryAnswer } | undefined, knownAuthorities: readonly string[], errorCode: string): ResolutionFailure {
  if (seen === undefined) return { reason: `${errorCode}, before any discovery document was fetched`, transient: false };
  const { url, answer } = seen;
  if ('failure' in answer) return { reason: `the discovery document ${url} could not be read (${answer.failure})`, transient: true };
  if (answer.status !== 200) return { reason: `the discovery document ${url} answered ${answer.status}`, transient: answer.status === 429 || answer.status >= 500 };
  return { reason: explainIssuer(url, answer.issuer, knownAuthorities, errorCode), transient: false };
}

function explainIssuer(url: string, issuer: string | undefined, knownAuthorities: readonly string[], errorCode: string): string {
  if (issuer === undefined) return `the discovery document ${url} names no issuer`;
  let host: string;
  try {
    host = new URL(issuer).host;
  } catch {
    return `the discovery document ${url} names an issuer that is not a URL`;
  }
  if (!knownAuthorities.includes(host)) {
    return `its discovery document ${url} names the issuer ${JSON.stringify(issuer).slice(1, -1)}, on host ${host}, which msal-node does not trust; add "${host}" to the knownAuthorities option`;
  }
  return `the discovery document ${url} (issuer ${JSON.stringify(issuer)}) was refused (${errorCode})`;
}
