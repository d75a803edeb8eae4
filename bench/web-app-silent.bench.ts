// Web app silent token acquisition vs signed-in users: ours (MsalSignInClient, a fresh msal-node
// client per call over the user's own partition of the MemoryWebAppStore) against one shared
// msal-node ConfidentialClientApplication whose default cache holds every user. Same process,
// users, run; every user signed in for real (authorize, the sign-in page, the authorization code).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfidentialClientApplication, type AccountInfo, type AuthenticationResult } from '@azure/msal-node';
import { Test } from '@nestjs/testing';
import { OboWebAppModule } from '../libs/obo/src/index.js';
import { MemoryWebAppStore } from '../libs/obo/src/web-app/session/memory-web-app-store.js';
import { WebAppStore } from '../libs/obo/src/web-app/session/web-app-store.js';
import { MsalSignInClient, s256 } from '../libs/obo/src/web-app/sign-in/msal-sign-in-client.js';
import { SignInClient, type AcquiredUserToken, type PendingAuthorization, type SignedInAccount } from '../libs/obo/src/web-app/sign-in/sign-in-client.js';
import { partitionKey } from '../libs/obo/src/web-app/sign-in/user-token-partition.js';
import { LocalAuthority } from '../libs/obo/testing/index.js';
import { formsOf, HttpBrowser } from '../test/support/http-browser.js';
import { storageOf } from './lib/msal-seed.js';
import { benchMain, header, int, kb, log, mb, pick, times, us, type RunHeader } from './lib/report.js';
import { heapAfterGc, median, percentile, pool, sample, summarize, type LatencySummary, type SamplingBounds } from './lib/stats.js';

const NAME = 'web-app-silent';
const config = {
  levels: pick([1, 1_000, 10_000], [1, 1_000]),
  signInConcurrency: 12,
  /** Users signed in through the shared client's own acquireTokenByCode; the rest are merged into its cache (see Method). */
  msalRealMax: pick(2_000, 300),
  rounds: 2,
  warmUsers: pick(60, 20),
  oursHit: { maxMs: pick(4_000, 600), minSamples: 300, maxSamples: 40_000 },
  msalHit: { maxMs: pick(8_000, 1_500), minSamples: 10, maxSamples: 20_000 },
  /** getAccountByHomeId is quadratic in the users (about 3 s a call at 1,000): measured up to this many users, a few calls. */
  byHomeIdMaxUsers: 1_000,
  byHomeIdHit: { maxMs: pick(6_000, 1_500), minSamples: 4, maxSamples: 20_000 },
  byHomeIdRefresh: { maxMs: pick(6_000, 1_500), minSamples: 4, maxSamples: 4_000 },
  oursRefresh: { maxMs: pick(5_000, 800), minSamples: 60, maxSamples: 4_000 },
  msalRefresh: { maxMs: pick(8_000, 1_500), minSamples: 10, maxSamples: 4_000 },
  partsSamples: pick(2_000, 300),
  tokenLifetimeSeconds: 3600,
};

const PASSWORD = 'Bench-Passw0rd!';
const REDIRECT_URI = 'http://127.0.0.1:9/auth/redirect'; // never reached: the bench reads the code from the 302

/** A MemoryWebAppStore that counts what the sign-in client asks of it (a counter per call: nothing else). */
class CountingStore extends MemoryWebAppStore {
  gets = 0;
  sets = 0;
  override get(key: string): Promise<string | undefined> {
    this.gets++;
    return super.get(key);
  }
  override set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.sets++;
    return super.set(key, value, ttlSeconds);
  }
}

interface User {
  username: string;
  oid: string;
  /** The authority session cookie of the user's (first) sign-in: the baseline's sign-in is SSO. */
  cookie?: string;
  account?: SignedInAccount;
  /** The AccountInfo the shared client's sign-in returned. */
  msalAccount?: AccountInfo;
}

interface Population {
  users: number;
  wallSeconds: number;
  /** One sign-in end to end (authorize page, form, code redemption), ms. */
  signInMedianMs: number;
  signInP99Ms: number;
  /** The code redemption alone (redeemCode / acquireTokenByCode), ms. */
  redeemMedianMs: number;
  redeemP99Ms: number;
}

interface Side {
  hit: LatencySummary;
  refresh: LatencySummary;
}

interface Parts {
  samples: number;
  /** Medians, µs: the steps of one MsalSignInClient hit, timed one by one outside the measured loop. */
  newClientUs: number;
  storeGetUs: number;
  deserializeUs: number;
  getAccountUs: number;
  acquireSilentUs: number;
  writeBackUs: number;
  sumUs: number;
  /** Share of hits where msal reported the cache changed (so the partition was written back). */
  writeBackShare: number;
}

interface Level {
  users: number;
  heapUsedAfterGcBytes: number;
  /** Accounts in the shared client's cache (its entries counted directly). */
  accountsInCache: number;
  ours: Side & { storeGetsPerHit: number; storeSetsPerHit: number; storeSetsPerRefresh: number; refreshTokenRequests: number; refreshCalls: number };
  /** The shared client, given the AccountInfo of the user's sign-in. */
  msal: Side & { refreshTokenRequests: number; refreshCalls: number };
  /** The shared client, getAccountByHomeId first (only up to config.byHomeIdMaxUsers). */
  byHomeId?: Side & { refreshTokenRequests: number; refreshCalls: number };
  /** ours ÷ shared, medians. */
  hitRatio: number;
  refreshRatio: number;
  hitRatioByHomeId?: number;
  refreshRatioByHomeId?: number;
  parts: Parts;
  partitionBytes: { median: number; min: number; max: number };
}

interface Result extends RunHeader {
  config: typeof config;
  populationOurs: Population[];
  populationMsal: Population[];
  populationMerged: Array<Population & { from: number }>;
  heap: { users: number; oursPartitionsBytes: number; oursPerUserBytes: number; msalCacheBytes: number; msalPerUserBytes: number };
  levels: Level[];
}

async function run(): Promise<Result> {
  const authority = await LocalAuthority.start();
  authority.tokenLifetimeSeconds = config.tokenLifetimeSeconds;
  const apiId = randomUUID();
  authority.registerApp({ clientId: apiId, scopes: ['access_as_user'] });
  const scope = `api://${apiId}/access_as_user`;
  const scopes = [scope];
  const webAppId = randomUUID();
  const webAppSecret = `secret-${randomUUID()}`;
  authority.registerApp({ clientId: webAppId, clientSecret: webAppSecret, displayName: 'Bench web app', redirectUris: [REDIRECT_URI] });
  const authorityOrigin = new URL(authority.instance).origin;
  const server = (authority as unknown as { server: Server }).server;
  // The shared client's synchronous cache scans block this process's event loop (the authority's too) for tens of ms at a time:
  // with Node's 5 s keep-alive the server could close a socket the client is just reusing (ECONNRESET). Idle sockets are closed below instead.
  server.keepAliveTimeout = 120_000;
  const quietHeap = async () => {
    server.closeIdleConnections();
    await sleep(200);
    return heapAfterGc();
  };

  /** OboWebAppModule through Nest DI (its SignInClient is the MsalSignInClient), on a counting memory store. */
  const webApp = async () => {
    const store = new CountingStore();
    const module = await Test.createTestingModule({
      imports: [OboWebAppModule.forRoot({ instance: authority.instance, tenantId: authority.tenantId, clientId: webAppId, clientSecret: webAppSecret, redirectUri: REDIRECT_URI, scopes })],
    })
      .overrideProvider(WebAppStore)
      .useValue(store)
      .compile();
    const client = module.get(SignInClient);
    if (!(client instanceof MsalSignInClient)) throw new Error('the web app module did not build an MsalSignInClient');
    return { module, client, store };
  };
  const sharedClient = () =>
    new ConfidentialClientApplication({ auth: { clientId: webAppId, authority: `${authority.instance}${authority.tenantId}`, clientSecret: webAppSecret, knownAuthorities: [authority.authorityHost] } });

  const users: User[] = [];
  const ensureUsers = (n: number, offset = 0) => {
    const list: User[] = [];
    for (let i = 0; i < n; i++) {
      const username = `user${offset + i}@bench.test`;
      const user = authority.addUser({ username, password: PASSWORD, name: `Bench User ${offset + i}` });
      authority.grantConsent(user.oid, webAppId, scopes); // consented once before (the sign-in page only)
      list.push({ username, oid: user.oid });
    }
    return list;
  };

  /** Ours: authorize (the sign-in page), the form, then MsalSignInClient.redeemCode. Returns [total ms, redeem ms]. */
  const signInOurs = async (client: MsalSignInClient, user: User): Promise<[number, number]> => {
    const t0 = performance.now();
    const pending: PendingAuthorization = { state: b64(32), nonce: b64(32), codeVerifier: b64(32), scopes, returnUrl: '/', createdAt: Date.now() };
    const browser = new HttpBrowser();
    const page = await browser.request(await client.authorizationUrl({ pending }));
    const form = formsOf(page.body)[0];
    if (page.status !== 200 || !form || !/id="sign-in-form"/.test(page.body)) throw new Error(`expected the sign-in page, got ${page.status}`);
    const answer = await browser.request(new URL(form.action, page.url).href, 'POST', { ...form.fields, username: user.username, password: PASSWORD });
    if (answer.status !== 302 || !answer.location?.startsWith(REDIRECT_URI)) throw new Error(`expected the redirect with a code, got ${answer.status}`);
    user.cookie = browser.cookie(authorityOrigin, authority.sessionCookieName);
    const t1 = performance.now();
    const { account } = await client.redeemCode(new URL(answer.location), pending);
    const t2 = performance.now();
    if (account.objectId !== user.oid) throw new Error(`signed in ${account.objectId}, expected ${user.oid}`);
    user.account = account;
    return [t2 - t0, t2 - t1];
  };

  /**
   * Baseline: authorize with the user's authority session (SSO, no page), then acquireTokenByCode on the shared client, or
   * (`merge`) on a fresh one-user client of the same app whose entries are then written into the shared client's cache
   * with msal's own NodeStorage.setItem: the entries the shared client would have written, without its per-call scan.
   */
  const signInShared = async (cca: ConfidentialClientApplication, user: User, merge = false): Promise<[number, number]> => {
    const t0 = performance.now();
    const redeemer = merge ? sharedClient() : cca;
    const verifier = b64(32);
    const state = b64(32);
    const nonce = b64(32);
    const url = await cca.getAuthCodeUrl({ scopes, redirectUri: REDIRECT_URI, responseMode: 'query', state, nonce, codeChallenge: s256(verifier), codeChallengeMethod: 'S256' });
    const browser = new HttpBrowser();
    browser.setCookie(authorityOrigin, authority.sessionCookieName, user.cookie);
    const hop = await browser.request(url);
    if (hop.status !== 302 || !hop.location?.startsWith(REDIRECT_URI)) throw new Error(`expected SSO straight to the redirect, got ${hop.status}`);
    const callback = new URL(hop.location);
    const code = callback.searchParams.get('code') ?? '';
    const t1 = performance.now();
    const result = await redeemer.acquireTokenByCode({ code, scopes, redirectUri: REDIRECT_URI, codeVerifier: verifier, state, nonce }, { code, state: callback.searchParams.get('state') ?? '' });
    if (merge) {
      const target = storageOf(cca);
      for (const [key, value] of Object.entries(storageOf(redeemer).getCache())) target.setItem(key, value);
    }
    const t2 = performance.now();
    if (!result.account || result.account.localAccountId !== user.oid) throw new Error('the shared client signed in someone else');
    user.msalAccount = result.account;
    return [t2 - t0, t2 - t1];
  };

  const populate = async (from: number, to: number, task: (user: User) => Promise<[number, number]>): Promise<Population> => {
    const total: number[] = [];
    const redeem: number[] = [];
    const started = performance.now();
    await pool(from, to, config.signInConcurrency, async (i) => {
      const [t, r] = await task(users[i]!);
      total.push(t);
      redeem.push(r);
    });
    return {
      users: to,
      wallSeconds: (performance.now() - started) / 1000,
      signInMedianMs: median(total),
      signInP99Ms: percentile(total, 0.99),
      redeemMedianMs: median(redeem),
      redeemP99Ms: percentile(redeem, 0.99),
    };
  };

  // Warm-up on a throwaway module, shared client and users: sign-ins, hits and refreshes on both sides.
  {
    const warm = await webApp();
    const cca = sharedClient();
    const warmUsers = ensureUsers(config.warmUsers, 1_000_000);
    users.push(...warmUsers);
    await populate(0, warmUsers.length, (u) => signInOurs(warm.client, u));
    await populate(0, warmUsers.length, (u) => signInShared(cca, u));
    for (let k = 0; k < 500; k++) {
      const u = warmUsers[k % warmUsers.length]!;
      await warm.client.acquireTokenSilent({ account: u.account!, scopes });
      await cca.acquireTokenSilent({ account: u.msalAccount!, scopes });
      await cca.acquireTokenSilent({ account: (await cca.getTokenCache().getAccountByHomeId(u.msalAccount!.homeAccountId))!, scopes });
      if (k % 10 === 0) {
        await warm.client.acquireTokenSilent({ account: u.account!, scopes, forceRefresh: true });
        await cca.acquireTokenSilent({ account: u.msalAccount!, scopes, forceRefresh: true });
      }
    }
    await warm.module.close();
    users.length = 0;
    log(`warm-up done (${config.warmUsers} throwaway users)`);
  }

  const ours = await webApp();
  const { client, store } = ours;
  const holder: { cca?: ConfidentialClientApplication } = { cca: sharedClient() };
  const populationOurs: Population[] = [];
  const populationMsal: Population[] = [];
  const populationMerged: Array<Population & { from: number }> = [];
  const levels: Level[] = [];

  const calls = { oursHits: 0 };
  const oursHit = (i: number) => {
    calls.oursHits++;
    return client.acquireTokenSilent({ account: users[i]!.account!, scopes });
  };
  const oursRefresh = (i: number) => client.acquireTokenSilent({ account: users[i]!.account!, scopes, forceRefresh: true });
  /** The shared client, given the AccountInfo its sign-in returned (kept in the session, as msal-node's web app samples do). */
  const sessionCall = (forceRefresh: boolean) => (i: number) => holder.cca!.acquireTokenSilent({ account: users[i]!.msalAccount!, scopes, forceRefresh });
  /** The shared client, finding the account by homeAccountId first (the brief's naive app). */
  const byHomeIdCall = (forceRefresh: boolean) => async (i: number) => {
    const cca = holder.cca!;
    const account: AccountInfo | null = await cca.getTokenCache().getAccountByHomeId(users[i]!.msalAccount!.homeAccountId);
    if (!account) throw new Error(`shared client: no account for user ${i}`);
    return cca.acquireTokenSilent({ account, scopes, forceRefresh });
  };
  const hitCheck = (who: string) => (r: AcquiredUserToken | AuthenticationResult | null, i: number) => {
    if (!r?.fromCache) throw new Error(`${who}: user ${i} missed the cache`);
  };
  const refreshCheck = (who: string) => (r: AcquiredUserToken | AuthenticationResult | null, i: number) => {
    if (!r || r.fromCache || !r.accessToken) throw new Error(`${who}: user ${i} was not refreshed`);
  };
  const perRound = (b: SamplingBounds): SamplingBounds => ({ maxMs: b.maxMs / config.rounds, minSamples: Math.ceil(b.minSamples / config.rounds), maxSamples: Math.ceil(b.maxSamples / config.rounds) });
  const tokens = () => authority.requests.token;
  const grants = () => authority.tokenRequests.refreshToken;

  for (const n of config.levels) {
    if (users.length < n) {
      const from = users.length;
      users.push(...ensureUsers(n - from, from));
      log(`ours: signing in users ${from}..${n - 1} (authorize, sign-in page, redeemCode; ${config.signInConcurrency} in flight)`);
      const po = await populate(from, n, (u) => signInOurs(client, u));
      populationOurs.push(po);
      log(`ours: ${int(n - from)} sign-ins in ${po.wallSeconds.toFixed(1)} s (median ${po.signInMedianMs.toFixed(1)} ms, redeemCode ${po.redeemMedianMs.toFixed(1)} ms)`);
      const cca = holder.cca!;
      const realEnd = Math.min(n, Math.max(from, config.msalRealMax));
      if (realEnd > from) {
        const pm = await populate(from, realEnd, (u) => signInShared(cca, u));
        populationMsal.push(pm);
        log(`shared client: ${int(realEnd - from)} sign-ins in ${pm.wallSeconds.toFixed(1)} s (median ${pm.signInMedianMs.toFixed(1)} ms, acquireTokenByCode ${pm.redeemMedianMs.toFixed(1)} ms)`);
      }
      if (n > realEnd) {
        const pm = await populate(realEnd, n, (u) => signInShared(cca, u, true));
        populationMerged.push({ ...pm, from: realEnd });
        log(`shared client: ${int(n - realEnd)} sign-ins redeemed by one-user clients and merged in ${pm.wallSeconds.toFixed(1)} s`);
      }
    }
    // msal's getAllAccounts is itself quadratic in the users (minutes at 10,000): count the shared cache's entries instead.
    const entries = Object.entries(storageOf(holder.cca!).getCache());
    const accountsInCache = entries.filter(([, v]) => typeof v === 'object' && v !== null && 'authorityType' in v).length;
    const userEntries = entries.filter(([k]) => !k.startsWith('appmetadata-') && !k.startsWith('authority-metadata-')).length;
    if (accountsInCache !== n || userEntries !== 4 * n) throw new Error(`the shared client holds ${accountsInCache} accounts and ${userEntries} user entries, expected ${n} and ${4 * n}`);
    const withByHomeId = n <= config.byHomeIdMaxUsers;
    const heap = await quietHeap();

    // Hits: alternate ours and the shared client; every call a cache hit, no token request at all.
    const hits = { ours: [] as number[], session: [] as number[], byHomeId: [] as number[] };
    const tokenBefore = tokens() + authority.requests.discovery;
    await sample(n, { maxMs: 300, minSamples: 50, maxSamples: 2_000 }, oursHit, hitCheck('ours'));
    await sample(n, { maxMs: 300, minSamples: 2, maxSamples: 200 }, sessionCall(false), hitCheck('shared client'));
    if (withByHomeId) await sample(n, { maxMs: 300, minSamples: 1, maxSamples: 200 }, byHomeIdCall(false), hitCheck('shared client by homeAccountId'));
    const [gets0, sets0, hits0] = [store.gets, store.sets, calls.oursHits];
    for (let round = 0; round < config.rounds; round++) {
      hits.ours.push(...(await sample(n, perRound(config.oursHit), oursHit, hitCheck('ours'))));
      hits.session.push(...(await sample(n, perRound(config.msalHit), sessionCall(false), hitCheck('shared client'))));
      if (withByHomeId) hits.byHomeId.push(...(await sample(n, perRound(config.byHomeIdHit), byHomeIdCall(false), hitCheck('shared client by homeAccountId'))));
    }
    const hitCalls = calls.oursHits - hits0;
    const storeGetsPerHit = (store.gets - gets0) / hitCalls;
    const storeSetsPerHit = (store.sets - sets0) / hitCalls;
    if (storeSetsPerHit !== 0) throw new Error(`ours wrote the partition back on a hit (${storeSetsPerHit} writes per hit)`);
    if (tokens() + authority.requests.discovery !== tokenBefore) throw new Error(`token or discovery requests during the hits at ${n} users`);

    // Refreshes: forceRefresh, one refresh_token grant per call, counted at the authority.
    const refresh = { ours: [] as number[], session: [] as number[], byHomeId: [] as number[] };
    const counted = { ours: { calls: 0, tokens: 0, sets: 0 }, session: { calls: 0, tokens: 0 }, byHomeId: { calls: 0, tokens: 0 } };
    const timedRefresh = async (who: 'ours' | 'session' | 'byHomeId', bounds: SamplingBounds, call: (i: number) => Promise<AcquiredUserToken | AuthenticationResult>) => {
      const [t0, g0, s0] = [tokens(), grants(), store.sets];
      const samples = await sample(n, perRound(bounds), call, refreshCheck(who));
      if (tokens() - t0 !== samples.length || grants() - g0 !== samples.length) throw new Error(`${who}: ${tokens() - t0} token requests for ${samples.length} refreshes`);
      counted[who].calls += samples.length;
      counted[who].tokens += tokens() - t0;
      if (who === 'ours') counted.ours.sets += store.sets - s0;
      refresh[who].push(...samples);
    };
    await sample(n, { maxMs: 300, minSamples: 10, maxSamples: 200 }, oursRefresh, refreshCheck('ours'));
    await sample(n, { maxMs: 300, minSamples: 2, maxSamples: 100 }, sessionCall(true), refreshCheck('shared client'));
    for (let round = 0; round < config.rounds; round++) {
      await timedRefresh('ours', config.oursRefresh, oursRefresh);
      await timedRefresh('session', config.msalRefresh, sessionCall(true));
      if (withByHomeId) await timedRefresh('byHomeId', config.byHomeIdRefresh, byHomeIdCall(true));
    }

    const before = tokens();
    const parts = await hitParts(client, store, users.slice(0, n), scopes);
    if (tokens() !== before) throw new Error('token requests while timing the parts of a hit');
    const sizes = await Promise.all(users.slice(0, n).map(async (u) => Buffer.byteLength((await store.get(partitionKey(u.account!.accountKey)))!, 'utf8')));
    const side = (who: 'session' | 'byHomeId') => ({ hit: summarize(hits[who]), refresh: summarize(refresh[who]), refreshTokenRequests: counted[who].tokens, refreshCalls: counted[who].calls });
    const ourHit = summarize(hits.ours);
    const ourRefresh = summarize(refresh.ours);
    const msal = side('session');
    const byHomeId = withByHomeId ? side('byHomeId') : undefined;
    const level: Level = {
      users: n,
      heapUsedAfterGcBytes: heap.heapUsed,
      accountsInCache,
      ours: {
        hit: ourHit,
        refresh: ourRefresh,
        storeGetsPerHit,
        storeSetsPerHit,
        storeSetsPerRefresh: counted.ours.sets / counted.ours.calls,
        refreshTokenRequests: counted.ours.tokens,
        refreshCalls: counted.ours.calls,
      },
      msal,
      byHomeId,
      hitRatio: ourHit.medianUs / msal.hit.medianUs,
      refreshRatio: ourRefresh.medianUs / msal.refresh.medianUs,
      hitRatioByHomeId: byHomeId && ourHit.medianUs / byHomeId.hit.medianUs,
      refreshRatioByHomeId: byHomeId && ourRefresh.medianUs / byHomeId.refresh.medianUs,
      parts,
      partitionBytes: { median: median(sizes), min: Math.min(...sizes), max: Math.max(...sizes) },
    };
    levels.push(level);
    log(
      `@ ${int(n)} users: hit ours ${us(ourHit.medianUs)} / shared ${us(msal.hit.medianUs)} (${times(level.hitRatio)}) / by homeAccountId ${us(byHomeId?.hit.medianUs)}; ` +
        `refresh ours ${us(ourRefresh.medianUs)} / shared ${us(msal.refresh.medianUs)} (${times(level.refreshRatio)}) / by homeAccountId ${us(byHomeId?.refresh.medianUs)}; partition ${kb(level.partitionBytes.median)}; heapUsed ${mb(heap.heapUsed)}`,
    );
  }

  // Heap per signed-in user at the largest level: what dropping each side's tokens frees (the authority's own per-user state stays).
  const n = users.length;
  const h0 = await quietHeap();
  for (const u of users) await store.delete(partitionKey(u.account!.accountKey));
  const h1 = await quietHeap();
  holder.cca = undefined;
  for (const u of users) u.msalAccount = undefined; // the AccountInfo of a sign-in shares the ID token (and carries its claims) with the cache
  const h2 = await quietHeap();
  const heap = {
    users: n,
    oursPartitionsBytes: h0.dataHeap - h1.dataHeap,
    oursPerUserBytes: (h0.dataHeap - h1.dataHeap) / n,
    msalCacheBytes: h1.dataHeap - h2.dataHeap,
    msalPerUserBytes: (h1.dataHeap - h2.dataHeap) / n,
  };
  log(`heap per signed-in user at ${int(n)}: ours ${kb(heap.oursPerUserBytes)}, shared client ${kb(heap.msalPerUserBytes)}`);
  await ours.module.close();
  await authority.close();
  return { ...header(NAME, ['@azure/msal-node', '@azure/msal-common', 'lru-cache']), config, populationOurs, populationMsal, populationMerged, heap, levels };
}

/**
 * The steps of one MsalSignInClient hit, timed one by one for random users (the same calls in the
 * same order as `acquireTokenSilent`, outside the measured loop): a new msal client (the client's
 * own factory), the store read, msal's deserialize, getAccountByHomeId, msal's acquireTokenSilent
 * on that one-user cache, and the write-back when msal says the cache changed.
 */
async function hitParts(client: MsalSignInClient, store: WebAppStore, users: User[], scopes: string[]): Promise<Parts> {
  const application = () => (client as unknown as { application(): Promise<ConfidentialClientApplication> }).application();
  const steps = { newClient: [] as number[], storeGet: [] as number[], deserialize: [] as number[], getAccount: [] as number[], acquire: [] as number[], writeBack: [] as number[] };
  let changed = 0;
  const ttl = 28_800;
  for (let k = 0; k < config.partsSamples; k++) {
    const user = users[Math.floor(Math.random() * users.length)]!;
    const key = partitionKey(user.account!.accountKey);
    let t = performance.now();
    const lap = (into: number[]) => {
      const now = performance.now();
      into.push((now - t) * 1000);
      t = now;
    };
    const app = await application();
    lap(steps.newClient);
    const partition = await store.get(key);
    lap(steps.storeGet);
    const cache = app.getTokenCache();
    cache.deserialize(partition!);
    lap(steps.deserialize);
    const account = await cache.getAccountByHomeId(user.account!.accountKey);
    lap(steps.getAccount);
    const result = await app.acquireTokenSilent({ account: account!, scopes });
    lap(steps.acquire);
    // As MsalSignInClient: only a refresh writes the partition back (a hit never does).
    if (!result.fromCache) {
      changed++;
      await store.set(key, cache.serialize(), ttl);
    }
    lap(steps.writeBack);
    if (!result.fromCache) throw new Error('parts: a hit missed the cache');
    const held = JSON.parse(partition!) as Record<string, Record<string, unknown>>;
    if (Object.keys(held.Account ?? {}).length !== 1 || Object.keys(held.RefreshToken ?? {}).length !== 1) throw new Error('parts: a partition holds more than one user');
  }
  const m = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, median(v)])) as Record<keyof typeof steps, number>;
  return {
    samples: config.partsSamples,
    newClientUs: m.newClient,
    storeGetUs: m.storeGet,
    deserializeUs: m.deserialize,
    getAccountUs: m.getAccount,
    acquireSilentUs: m.acquire,
    writeBackUs: m.writeBack,
    sumUs: m.newClient + m.storeGet + m.deserialize + m.getAccount + m.acquire + m.writeBack,
    writeBackShare: changed / config.partsSamples,
  };
}

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');

/** ours ÷ baseline: `2.1×`, `0.53×`, or `1/4,000` when ours is far faster. */
const ratio = (r: number | undefined) => (r === undefined ? undefined : r >= 0.1 ? times(r) : `1/${int(1 / r)}`);

function render(r: Result, node20?: Result) {
  const first = r.levels[0]!;
  const last = r.levels.at(-1)!;
  const homeIdLevels = r.levels.filter((l) => l.byHomeId);
  const homeIdLast = homeIdLevels.at(-1);
  return {
    vars: {
      table: r.levels.map((l) => ({ ...l, ratios: { hit: ratio(l.hitRatio), refresh: ratio(l.refreshRatio), hitByHomeId: ratio(l.hitRatioByHomeId), refreshByHomeId: ratio(l.refreshRatioByHomeId) } })),
      lastRatios: { hit: ratio(last.hitRatio), refresh: ratio(last.refreshRatio) },
      first,
      last,
      homeIdLast,
      oursHitGrowth: last.ours.hit.medianUs / first.ours.hit.medianUs,
      oursRefreshGrowth: last.ours.refresh.medianUs / first.ours.refresh.medianUs,
      msalHitGrowth: last.msal.hit.medianUs / first.msal.hit.medianUs,
      msalRefreshGrowth: last.msal.refresh.medianUs / first.msal.refresh.medianUs,
      homeIdHitGrowth: homeIdLast && homeIdLast.byHomeId!.hit.medianUs / first.byHomeId!.hit.medianUs,
      popTable: [
        ...r.populationOurs.map((p, i) => ({ who: 'ours (redeemCode)', from: i === 0 ? 0 : r.populationOurs[i - 1]!.users, ...p })),
        ...r.populationMsal.map((p, i) => ({ who: 'shared client (its own acquireTokenByCode)', from: i === 0 ? 0 : r.populationMsal[i - 1]!.users, ...p })),
        ...r.populationMerged.map((p) => ({ who: 'shared client (one-user client, merged)', ...p })),
      ],
      oursPopulationSeconds: r.populationOurs.reduce((t, p) => t + p.wallSeconds, 0),
      heapRatio: r.heap.oursPerUserBytes / r.heap.msalPerUserBytes,
      hitsWrittenBack: last.ours.storeSetsPerHit,
    },
  };
}

await benchMain(NAME, run, render);
