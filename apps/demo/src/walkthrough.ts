import { writeFileSync } from 'node:fs';
import type { LocalAuthority } from 'nestjs-obo/testing';

/** What the walkthrough needs to know about the running chain. */
export interface DemoChain {
  readonly authority: LocalAuthority;
  readonly originalUrl: string;
  readonly originalId: string;
  readonly tokenFile: string;
}

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function pick(claims: Record<string, unknown>, names: string[]): string {
  return names.map((n) => `${n}=${JSON.stringify(claims[n])}`).join(' ');
}

async function call(url: string, token?: string): Promise<{ status: number; challenge: string | null; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, challenge: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`demo self-check failed: ${what}`);
}

/**
 * Walks a newcomer through the On-Behalf-Of chain, checking each step: the same user seen
 * downstream through the Original API, the cache, a missing scope, a Conditional Access
 * challenge relayed to the client, and an app-only call. Prints claims, never whole tokens.
 */
export async function walkthrough({ authority, originalUrl, originalId, tokenFile }: DemoChain): Promise<void> {
  const profile = `${originalUrl}/api/profile`;
  const user = authority.mintUserToken({ audience: originalId });
  writeFileSync(tokenFile, user, { mode: 0o600 });
  console.log(`\n${bold('1. A client signs a user in')} and gets a token for the Original API:`);
  console.log(`   ${pick(claimsOf(user), ['aud', 'scp', 'oid', 'tid'])}`);

  const first = await call(profile, user);
  const downstream = first.body.downstream as Record<string, unknown>;
  const caller = first.body.caller as Record<string, unknown>;
  console.log(`\n${bold('2. GET /api/profile')} -> ${first.status}. The Original API exchanged the token On-Behalf-Of the user:`);
  console.log(`   caller.objectId     = ${caller?.objectId}`);
  console.log(`   downstream.objectId = ${downstream?.objectId}   (the same user)`);
  console.log(`   downstream.clientAppId = ${downstream?.clientAppId}   (the Original API, acting for the user)`);
  expect(first.status === 200 && downstream?.objectId === caller?.objectId && downstream?.clientAppId === originalId, 'profile call');
  const oboRequests = authority.tokenRequests.onBehalfOf;
  console.log(`   identity provider OBO requests so far: ${oboRequests}`);

  const second = await call(profile, user);
  console.log(`\n${bold('3. The same call again')} -> ${second.status}; OBO requests still ${authority.tokenRequests.onBehalfOf} (served from our token cache).`);
  expect(second.status === 200 && authority.tokenRequests.onBehalfOf === oboRequests, 'cache hit');

  const denied = await call(profile, authority.mintUserToken({ audience: originalId, claims: { scp: 'Files.Read' } }));
  console.log(`\n${bold('4. A token without the access_as_user scope')} -> ${denied.status}`);
  console.log(`   WWW-Authenticate: ${denied.challenge}`);
  expect(denied.status === 403, 'missing scope');

  const mfaUser = authority.mintUserToken({ audience: originalId });
  const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
  const fault = authority.injectTokenFault({ kind: 'claims-challenge', claims }, { oid: claimsOf(mfaUser).oid as string, times: 1 });
  const challenged = await call(profile, mfaUser);
  fault.remove();
  console.log(`\n${bold('5. Conditional Access asks this user for MFA')} -> ${challenged.status}; the challenge reaches the client:`);
  console.log(`   WWW-Authenticate: ${challenged.challenge}`);
  expect(challenged.status === 401 && (challenged.challenge ?? '').includes('insufficient_claims'), 'claims challenge');

  const app = authority.mintAppToken({ audience: originalId, claims: { roles: ['Profile.Read.All'] } });
  const appCall = await call(`${originalUrl}/api/app-profile`, app);
  const appDownstream = appCall.body.downstream as Record<string, unknown>;
  console.log(`\n${bold('6. An app-only caller')} -> GET /api/app-profile ${appCall.status}; downstream sees tokenKind=${appDownstream?.tokenKind}, roles=${JSON.stringify(appDownstream?.roles)}`);
  expect(appCall.status === 200 && appDownstream?.tokenKind === 'app', 'app-only call');
}
