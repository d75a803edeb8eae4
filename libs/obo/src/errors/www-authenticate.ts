/** Parameters of one RFC 6750 `Bearer` challenge. */
export interface BearerChallenge {
  realm?: string;
  /** Microsoft's claims challenge: where the client signs in again. */
  authorizationUri?: string;
  clientId?: string;
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'insufficient_claims' | 'insufficient_user_authentication';
  errorDescription?: string;
  scope?: string;
  /** Base64 of the claims request (Microsoft's `insufficient_claims` format). */
  claims?: string;
  /** RFC 9470 step-up: acceptable authentication context classes, space-separated. */
  acrValues?: string;
  /** RFC 9470 step-up: the longest acceptable time since the user authenticated, in seconds. */
  maxAge?: number;
  /** RFC 9728 §5.1: the URL of the resource's protected-resource metadata. */
  resourceMetadata?: string;
}

/** Where a resource server's challenges come from: its `realm` and its RFC 9728 metadata URL, both optional. */
export interface ChallengeOrigin {
  readonly realm?: string;
  readonly resourceMetadata?: string;
}

// RFC 7230 quoted-string content we allow: printable ASCII without `"` and `\`. Anything else is
// replaced, so no value can break out of its quotes or inject a header line.
const UNSAFE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

function quoted(value: string): string {
  return `"${value.replace(UNSAFE, '_')}"`;
}

/** Formats a `WWW-Authenticate` value: `Bearer` alone when no parameter is set. */
export function formatBearerChallenge(challenge: BearerChallenge): string {
  const params: string[] = [];
  if (challenge.realm !== undefined) params.push(`realm=${quoted(challenge.realm)}`);
  if (challenge.authorizationUri) params.push(`authorization_uri=${quoted(challenge.authorizationUri)}`);
  if (challenge.clientId) params.push(`client_id=${quoted(challenge.clientId)}`);
  if (challenge.error) params.push(`error=${quoted(challenge.error)}`);
  if (challenge.errorDescription) params.push(`error_description=${quoted(challenge.errorDescription)}`);
  if (challenge.scope) params.push(`scope=${quoted(challenge.scope)}`);
  if (challenge.claims) params.push(`claims=${quoted(challenge.claims)}`);
  if (challenge.acrValues) params.push(`acr_values=${quoted(challenge.acrValues)}`);
  if (challenge.maxAge !== undefined) params.push(`max_age=${quoted(String(challenge.maxAge))}`);
  if (challenge.resourceMetadata) params.push(`resource_metadata=${quoted(challenge.resourceMetadata)}`);
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}
