import type { SignedInAccount } from './sign-in-client.js';

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The signed-in account from validated ID token claims: `sub` is the account key (one issuer per client). */
export function signedInAccountOf(claims: Readonly<Record<string, unknown>> & { readonly sub: string }): SignedInAccount {
  const optional = {
    sessionId: text(claims.sid),
    name: text(claims.name),
    username: text(claims.preferred_username) ?? text(claims.email),
    authTime: typeof claims.auth_time === 'number' ? claims.auth_time : undefined,
  };
  const defined = Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined));
  return { accountKey: claims.sub, issuer: String(claims.iss), subject: claims.sub, ...defined };
}
