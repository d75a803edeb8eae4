// Catalogue #114: client assertions (workload identity federation) against the local authority,
// which verifies each client_assertion and answers AADSTS700024 for one outside its time range.
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signCompact } from 'nestjs-obo/testing';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectCleanError } from './support/expect-clean-error.js';
import { send } from './support/http-reply.js';
import { startOboChain, type OboChain } from './support/obo-chain.js';
import type { OboModuleOptions } from 'nestjs-obo';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A client assertion for `clientId` at the authority's token endpoint, valid from `from` for `lifetime` seconds. */
function assertionFor(chain: OboChain, key: KeyObject, { from = 0, lifetime = 300 } = {}): string {
  const now = Math.floor(Date.now() / 1000) + from;
  const payload = { iss: chain.originalId, sub: chain.originalId, aud: chain.authority.tokenEndpoint(), iat: now, nbf: now, exp: now + lifetime, jti: randomUUID() };
  return signCompact(JSON.stringify({ alg: 'RS256', typ: 'JWT' }), JSON.stringify(payload), 'RS256', key);
}

/** Starts the chain with `clientAssertion` as the Original API's only credential, its key registered. */
async function assertionChain(clientAssertion: (chain: () => OboChain) => OboModuleOptions['clientAssertion']): Promise<OboChain> {
  let started: OboChain | undefined;
  const chain = await startOboChain({ original: { clientSecret: undefined, clientAssertion: clientAssertion(() => started!) } });
  started = chain;
  chain.authority.registerApp({ clientId: chain.originalId, clientAssertionKey: publicKey, scopes: ['access_as_user'] });
  return chain;
}

const profile = (chain: OboChain) => `${chain.original.url}/api/profile`;
const sentAssertions = (chain: OboChain) => chain.authority.tokenRequestLog.map((r) => r.client_assertion);

describe('#114 client assertions: a callback', () => {
  let chain: OboChain;
  const capture = new CapturingLogger();
  const issued: string[] = [];
  /** What the callback returns next: fresh assertions, or expired ones. */
  let script: Array<'fresh' | 'expired'> = [];

  beforeAll(async () => {
    chain = await assertionChain((current) => async () => {
      const kind = script.shift() ?? 'fresh';
      const assertion = assertionFor(current(), privateKey, kind === 'expired' ? { from: -600, lifetime: 300 } : {});
      issued.push(assertion);
      return assertion;
    });
    chain.original.app.useLogger(capture);
  }, 30_000);
  afterAll(() => chain?.close());
  beforeEach(() => {
    chain.authority.resetCounters();
    capture.clear();
    issued.length = 0;
    script = [];
  });

  it('is called for every token request, and each request carries the assertion it returned', async () => {
    for (let i = 0; i < 3; i++) expect((await send(profile(chain), chain.userToken())).status).toBe(200);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(3);
    expect(issued).toHaveLength(3);
    expect(sentAssertions(chain)).toEqual(issued);
  });

  it('after AADSTS700024 (an expired assertion) discards it and retries once with a fresh one: 200', async () => {
    script = ['expired', 'fresh'];
    const reply = await send(profile(chain), chain.userToken());
    expect(reply.status).toBe(200);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
    expect(sentAssertions(chain)).toEqual(issued);
    expect(issued).toHaveLength(2);
  });

  it('when the fresh one is refused too: a generic 500, one log line naming AADSTS700024, no assertion in any log line', async () => {
    script = ['expired', 'expired', 'expired'];
    const reply = await send(profile(chain), chain.userToken());
    expectCleanError(reply, 500, 'ERR_OBO_INTERNAL', issued[0]!);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2); // one retry, no more
    const lines = capture.entries.filter((e) => e.level === 'error' || e.level === 'warn' || e.level === 'fatal');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.text).toMatch(/ERR_OBO_CLIENT_CREDENTIALS_INVALID: .*expired or not yet valid \(AADSTS700024\)/);
    const everything = capture.entries.map((e) => e.text).join('\n');
    for (const assertion of issued) expect(everything).not.toContain(assertion.split('.')[2]!);
    expect(everything).not.toMatch(/eyJ/);
  });
});

describe('#114 client assertions: a federated token file (AKS workload identity)', () => {
  let chain: OboChain;
  let dir: string;
  let file: string;

  /** Replaces the file the way the kubelet does: a new file renamed over the old one. */
  async function rotate(assertion: string): Promise<void> {
    const next = join(dir, `.token-${randomUUID()}`);
    await writeFile(next, `${assertion}\n`);
    await rename(next, file);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'obo-fic-'));
    file = join(dir, 'azure-identity-token');
    chain = await assertionChain(() => ({ federatedTokenFile: file }));
  }, 30_000);
  afterAll(async () => {
    await chain?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the file, keeps its assertion while the file is unchanged, and uses the new one once the file is rotated', async () => {
    const first = assertionFor(chain, privateKey);
    await rotate(first);
    chain.authority.resetCounters();
    expect((await send(profile(chain), chain.userToken())).status).toBe(200);
    expect((await send(profile(chain), chain.userToken())).status).toBe(200);
    const second = assertionFor(chain, privateKey);
    await rotate(second);
    expect((await send(profile(chain), chain.userToken())).status).toBe(200);
    expect(sentAssertions(chain)).toEqual([first, first, second]);
  });

  it('with an expired assertion in the file: one retry after AADSTS700024 (the file re-read), then 500; 200 once the file is rotated', async () => {
    const stale = assertionFor(chain, privateKey, { from: -600, lifetime: 300 });
    await rotate(stale);
    chain.authority.resetCounters();
    const refused = await send(profile(chain), chain.userToken());
    expect(refused.status).toBe(500);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2); // the retry re-read the file, still stale
    const fresh = assertionFor(chain, privateKey);
    await rotate(fresh);
    expect((await send(profile(chain), chain.userToken())).status).toBe(200);
    expect(sentAssertions(chain).slice(-1)).toEqual([fresh]);
  });
});
