import { AuthError } from '@azure/msal-node';
import type { DiscoveryAnswer } from './deadline-network-client.js';

/** msal-node's errors for an authority it cannot use: metadata missing, unreadable, or an issuer it does not trust. */
export function isResolutionFailure(error: unknown): boolean {
  return error instanceof AuthError && (error.errorCode === 'endpoints_resolution_error' || error.errorCode === 'issuer_validation_failed');
}

/** Why msal refused an authority, from the discovery answer it got (msal's own error does not say). */
export function explainResolutionFailure(seen: { url: string; answer: DiscoveryAnswer } | undefined, knownAuthorities: readonly string[], errorCode: string): string {
  if (seen === undefined) return `${errorCode}, before any discovery document was fetched`;
  const { url, answer } = seen;
  if ('failure' in answer) return `the discovery document ${url} could not be read (${answer.failure})`;
  if (answer.status !== 200) return `the discovery document ${url} answered ${answer.status}`;
  if (answer.issuer === undefined) return `the discovery document ${url} names no issuer`;
  let host: string;
  try {
    host = new URL(answer.issuer).host;
  } catch {
    return `the discovery document ${url} names an issuer that is not a URL`;
  }
  if (!knownAuthorities.includes(host)) {
    return `its discovery document ${url} names the issuer ${answer.issuer}, on host ${host}, which msal-node does not trust; add "${host}" to the knownAuthorities option`;
  }
  return `the discovery document ${url} (issuer ${answer.issuer}) was refused (${errorCode})`;
}
