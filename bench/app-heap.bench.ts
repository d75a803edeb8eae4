// Whole-application heap per warmed user: the Original API of the end-to-end bench (OboModule +
// `GET /api/profile` through DownstreamApi) in a child process with both caches bound high enough
// that nothing is evicted; N users, each with its own access token, call it once; then the child
// runs a full GC and reports its memory. One new process per level.
import { Agent } from 'node:http';
import { startChild } from './lib/child.js';
import { claimsOf, mintAssertion, startFixture, type Fixture } from './lib/fixture.js';
import { get } from './lib/load.js';
import { benchMain, header, int, kb, log, mb, pick, type RunHeader } from './lib/report.js';
import { pool } from './lib/stats.js';
import type { HeapReport, OriginalApiServerConfig } from './servers/original-api.server.js';

const NAME = 'app-heap';
const TARGET_BYTES = 4 * 1024;
const config = { levels: pick([10_000, 100_000], [10_000]), warmUpUsers: pick(2_000, 500), concurrency: 16, cacheMaxEntries: 200_000, validatedTokenCacheMaxEntries: 200_000 };

interface Level {
  users: number;
  /** After the throwaway warm-up and with both caches emptied. */
  atZero: HeapReport;
  afterWarm: HeapReport;
  /** After emptying the validated-token cache, then also the OBO token cache. */
  withoutValidated: HeapReport;
  withoutBoth: HeapReport;
  warmSeconds: number;
  oboRequests: number;
}
interface Result extends RunHeader {
  config: typeof config;
  assertionLengthChars: number;
  levels: Level[];
}

/** Every user calls `GET /api/profile` once with its own token: 200 with its own oid, or the run aborts. */
async function warm(fixture: Fixture, url: string, from: number, to: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: config.concurrency });
  await pool(from, to, config.concurrency, async (i) => {
    const token = mintAssertion(fixture, i);
    const reply = await get(agent, `${url}/api/profile`, token);
    const oid = (JSON.parse(reply.body || '{}') as { caller?: { objectId?: string } }).caller?.objectId;
    if (reply.status !== 200 || oid !== claimsOf(token).oid) throw new Error(`user ${i}: ${reply.status}, caller ${oid}`);
  });
  agent.destroy();
}

async function run(): Promise<Result> {
  const fixture = await startFixture();
  const { authority } = fixture;
  const downstream = await startChild('downstream', 'downstream.server.js', {});
  const levels: Level[] = [];
  try {
    for (const users of config.levels) {
      const api = await startChild('original-api', 'original-api.server.js', {
        instance: authority.instance,
        tenantId: authority.tenantId,
        clientId: fixture.originalId,
        clientSecret: fixture.clientSecret,
        downstreamBaseUrl: downstream.url,
        downstreamScope: fixture.scope,
        cacheMaxEntries: config.cacheMaxEntries,
        validatedTokenCacheMaxEntries: config.validatedTokenCacheMaxEntries,
      } satisfies OriginalApiServerConfig, ['--expose-gc']);
      try {
        // Throwaway users first (JIT, connections, lazily allocated LRU arrays), then both caches emptied.
        await warm(fixture, api.url, 10_000_000, 10_000_000 + config.warmUpUsers);
        await api.ask('clear-caches', 'both');
        const atZero = await api.ask<HeapReport>('heap');
        authority.resetCounters();
        const t0 = performance.now();
        await warm(fixture, api.url, 0, users);
        const warmSeconds = (performance.now() - t0) / 1000;
        const oboRequests = authority.tokenRequests.onBehalfOf;
        if (oboRequests !== users) throw new Error(`${oboRequests} On-Behalf-Of requests for ${users} users`);
        const afterWarm = await api.ask<HeapReport>('heap');
        if (afterWarm.validatedTokens !== users || afterWarm.oboTokens !== users) throw new Error(`caches hold ${afterWarm.validatedTokens} / ${afterWarm.oboTokens} entries for ${users} users`);
        await api.ask('clear-caches', 'validated');
        const withoutValidated = await api.ask<HeapReport>('heap');
        await api.ask('clear-caches', 'obo');
        const withoutBoth = await api.ask<HeapReport>('heap');
        levels.push({ users, atZero, afterWarm, withoutValidated, withoutBoth, warmSeconds, oboRequests });
        log(`${int(users)} users in ${warmSeconds.toFixed(1)} s: heapUsed ${mb(atZero.heapUsed)} → ${mb(afterWarm.heapUsed)}, ${kb((afterWarm.heapUsed - atZero.heapUsed) / users)} per user`);
      } finally {
        await api.stop();
      }
    }
  } finally {
    await downstream.stop();
    await authority.close();
  }
  return { ...header(NAME, ['@nestjs/core', '@azure/msal-node', 'lru-cache']), config, assertionLengthChars: mintAssertion(fixture, 0).length, levels };
}

function render(r: Result, node20?: Result) {
  const worst = (x: Result) => Math.max(...x.levels.map((l) => (l.afterWarm.heapUsed - l.atZero.heapUsed) / l.users));
  return {
    vars: {
      table: r.levels.map((l) => {
        const per = (a: number, b: number) => (a - b) / l.users;
        const [zero, warm, noValidated, neither] = [l.atZero, l.afterWarm, l.withoutValidated, l.withoutBoth];
        return { ...l, perUser: per(warm.heapUsed, zero.heapUsed), validated: per(warm.heapUsed, noValidated.heapUsed), obo: per(noValidated.heapUsed, neither.heapUsed), rest: per(neither.heapUsed, zero.heapUsed), rssPerUser: per(warm.rss, zero.rss),
          // What the resident set grew by: V8's committed heap, external memory (buffers), and the rest (native: OpenSSL, malloc arenas, code).
          rssHeapTotalPerUser: per(warm.heapTotal, zero.heapTotal), rssExternalPerUser: per(warm.external, zero.external), rssNativePerUser: per(warm.rss - warm.heapTotal - warm.external, zero.rss - zero.heapTotal - zero.external),
          peakPerUser: per(warm.maxRss, zero.rss) };
      }),
      worst: worst(r),
      rssFalls: r.levels.length > 1 && (r.levels.at(-1)!.afterWarm.rss - r.levels.at(-1)!.atZero.rss) / r.levels.at(-1)!.users < (r.levels[0]!.afterWarm.rss - r.levels[0]!.atZero.rss) / r.levels[0]!.users,
      met: worst(r) <= TARGET_BYTES,
      worst20: node20 && worst(node20),
    },
  };
}

await benchMain(NAME, run, render);
