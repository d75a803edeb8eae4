/**
 * What the walkthrough needs from one provider's chain: a local authority of that provider's shape
 * with both sample APIs running against it. Everything that differs between authorities (which
 * claims to print, how tokens are minted, how a step-up is provoked, what the authority counts) is
 * here, so the walkthrough itself stays the same for every provider.
 */
export interface DemoChain {
  /** Base URL of the running Original API. */
  readonly originalUrl: string;
  /** The Original API's client id: the `clientAppId` the Downstream API sees for a delegated call. */
  readonly originalClientId: string;
  /** Claims of a user token worth printing (never the whole token). */
  readonly userClaimNames: readonly string[];
  /** What the authority calls a delegated token request, e.g. `OBO requests`. */
  readonly exchangeLabel: string;
  /** Delegated token requests (On-Behalf-Of or token exchange) the authority has served so far. */
  exchanges(): number;
  /** A user token for the Original API with scope `access_as_user`. */
  mintUserToken(): string;
  /** A user token for the Original API without `access_as_user`. */
  mintTokenWithoutScope(): string;
  /** An app-only token for the Original API with the app permission `Profile.Read.All`. */
  mintAppToken(): string;
  /** The sample web app (sign in in a browser), when this provider's chain runs one, and who can sign in. */
  readonly webApp?: { readonly url: string; readonly users: readonly string[]; readonly password: string; /** The authority's TLS certificate (PEM), for the demo's own sign-in check. */ readonly authorityCa: string };
  /** The sample MCP server, when this provider's chain runs one: its endpoint, its client id, and a user token for it. */
  readonly mcp?: { readonly endpoint: string; readonly serverClientId: string; mintUserToken(): string };
  /** Step 5: how the authority asks for a stronger sign-in. */
  readonly stepUp: StepUp;
  /** Stops both sample APIs and the authority. */
  stop(): Promise<void>;
}

/** The authority answering the next delegated token request for one user with a challenge. */
export interface StepUp {
  /** The step's title, e.g. `Conditional Access asks this user for MFA`. */
  readonly title: string;
  /** The `error` the challenge relayed to the client carries. */
  readonly error: string;
  /** Makes the next delegated token request for the user of `userToken` answer with the challenge; returns how to undo it. */
  inject(userToken: string): { remove(): void };
}

/** The claims of a JWT (not verified: the walkthrough only prints them). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
