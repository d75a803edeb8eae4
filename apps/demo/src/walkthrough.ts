import { writeFileSync } from 'node:fs';
import { claimsOf, type DemoChain } from './demo-chain.js';
import { checkMcpServer } from './mcp-check.js';
import { signInToWebApp } from './web-app-check.js';

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

function pick(claims: Record<string, unknown>, names: readonly string[]): string {
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
 * downstream through the Original API, the cache, a missing scope, a step-up challenge relayed to
 * the client, and an app-only call. The same steps for every provider; `chain` says what differs.
 * Prints claims, never whole tokens; the user token of step 1 is written to `tokenFile` (mode 0600).
 */
export async function walkthrough(chain: DemoChain, tokenFile: string): Promise<void> {
  const { originalUrl, originalClientId, exchangeLabel } = chain;
  const profile = `${originalUrl}/api/profile`;
  const user = chain.mintUserToken();
  writeFileSync(tokenFile, user, { mode: 0o600 });
  console.log(`\n${bold('1. A client signs a user in')} and gets a token for the Original API:`);
  console.log(`   ${pick(claimsOf(user), chain.userClaimNames)}`);

  const first = await call(profile, user);
  const downstream = first.body.downstream as Record<string, unknown>;
  const caller = first.body.caller as Record<string, unknown>;
  console.log(`\n${bold('2. GET /api/profile')} -> ${first.status}. The Original API exchanged the token On-Behalf-Of the user:`);
  console.log(`   caller.objectId     = ${caller?.objectId}`);
  console.log(`   downstream.objectId = ${downstream?.objectId}   (the same user)`);
  console.log(`   downstream.clientAppId = ${downstream?.clientAppId}   (the Original API, acting for the user)`);
  expect(first.status === 200 && downstream?.objectId === caller?.objectId && downstream?.clientAppId === originalClientId, 'profile call');
  const exchanges = chain.exchanges();
  console.log(`   identity provider ${exchangeLabel} so far: ${exchanges}`);
  expect(exchanges === 1, 'one delegated token request');

  const second = await call(profile, user);
  console.log(`\n${bold('3. The same call again')} -> ${second.status}; ${exchangeLabel} still ${chain.exchanges()} (served from our token cache).`);
  expect(second.status === 200 && chain.exchanges() === exchanges, 'cache hit');

  const denied = await call(profile, chain.mintTokenWithoutScope());
  console.log(`\n${bold('4. A token without the access_as_user scope')} -> ${denied.status}`);
  console.log(`   WWW-Authenticate: ${denied.challenge}`);
  expect(denied.status === 403, 'missing scope');

  const stepUpUser = chain.mintUserToken();
  const fault = chain.stepUp.inject(stepUpUser);
  const challenged = await call(profile, stepUpUser);
  fault.remove();
  console.log(`\n${bold(`5. ${chain.stepUp.title}`)} -> ${challenged.status}; the challenge reaches the client:`);
  console.log(`   WWW-Authenticate: ${challenged.challenge}`);
  expect(challenged.status === 401 && (challenged.challenge ?? '').includes(`error="${chain.stepUp.error}"`), 'step-up challenge');

  const appCall = await call(`${originalUrl}/api/app-profile`, chain.mintAppToken());
  const appDownstream = appCall.body.downstream as Record<string, unknown>;
  console.log(`\n${bold('6. An app-only caller')} -> GET /api/app-profile ${appCall.status}; downstream sees tokenKind=${appDownstream?.tokenKind}, roles=${JSON.stringify(appDownstream?.roles)}`);
  expect(appCall.status === 200 && appDownstream?.tokenKind === 'app', 'app-only call');

  if (chain.webApp) {
    const { url, users, password, authorityCa } = chain.webApp;
    const page = await signInToWebApp(url, users[0]!, password, authorityCa);
    console.log(`\n${bold('7. The web app that calls web APIs')} (${url}): ${users[0]} signs in at the authority's page, consents, and GET /profile -> ${page.status}`);
    console.log('   the page shows the same user at the web app, the Original API and the Downstream API (On-Behalf-Of)');
    expect(page.status === 200 && page.html.includes('The same user at all three hops.'), 'web app sign-in and profile');
  }

  if (chain.mcp) {
    const mcp = await checkMcpServer(chain.mcp.endpoint, chain.mcp.mintUserToken());
    const caller = mcp.whoami?.caller as Record<string, unknown> | undefined;
    const seen = mcp.whoami?.downstream as Record<string, unknown> | undefined;
    console.log(`\n${bold('8. An MCP client')} (the MCP SDK's client) connects to the sample MCP server at ${chain.mcp.endpoint}:`);
    console.log(`   without a token -> ${mcp.unauthenticatedStatus}; the challenge names the RFC 9728 metadata: authorization server ${mcp.authorizationServers.join(' ')}, scope ${mcp.scopesSupported.join(' ')}`);
    console.log(`   with a user token: tools ${mcp.tools.join(', ')}; whoami -> downstream.objectId = ${seen?.objectId}, downstream.clientAppId = ${seen?.clientAppId}   (the MCP server, On-Behalf-Of the user)`);
    expect(
      mcp.unauthenticatedStatus === 401 && mcp.tools.includes('whoami') && caller?.objectId !== undefined && seen?.objectId === caller.objectId && seen?.clientAppId === chain.mcp.serverClientId,
      'MCP server discovery and whoami tool',
    );
  }
}
