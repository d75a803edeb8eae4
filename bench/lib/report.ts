import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { LatencySummary } from './stats.js';

export interface LevelResult {
  readonly users: number;
  /** Process heap after gc before sampling this level (both caches while msal's is live). */
  readonly heapUsedAfterGcBytes: number;
  readonly externalBytes: number;
  readonly rssBytes: number;
  /** Whether the msal baseline's cache was still in the heap at this level. */
  readonly msalCacheLive: boolean;
  readonly ours?: LatencySummary & {
    readonly cacheEntries: number;
    readonly realUsers: number;
    readonly stubbedUsers: number;
    /** Heap growth since the empty TokenCache was built (populations only, gc before and after). */
    readonly cacheHeapBytes: number;
    /** (cacheHeapBytes − the 1-user step's) / (users − 1); cacheHeapBytes / users without a 1-user level. */
    readonly cacheHeapPerUserBytes: number;
    /** Heap growth since the previous level / users added. */
    readonly marginalHeapPerUserBytes?: number;
  };
  readonly msal?: LatencySummary & {
    readonly cacheKeys: number;
    readonly realUsers: number;
    readonly seededUsers: number;
    readonly cacheHeapBytes: number;
    readonly cacheHeapPerUserBytes: number;
  };
  /** msal median ÷ ours median. */
  readonly ratioMedian?: number;
}

export interface BenchConfig {
  readonly oursLevels: readonly number[];
  readonly msalLevels: readonly number[];
  readonly oursRealMax: number;
  readonly msalRealMax: number;
  readonly rounds: number;
  readonly ours: { readonly maxMs: number; readonly minSamples: number; readonly maxSamples: number };
  readonly msal: { readonly maxMs: number; readonly minSamples: number; readonly maxSamples: number };
  readonly populateConcurrency: number;
  readonly cacheMaxEntries: number;
  readonly warmUsers: number;
  readonly isDefaultRun: boolean;
}

export interface BenchResult {
  readonly name: string;
  readonly date: string;
  readonly durationSeconds: number;
  readonly command: string;
  readonly machine: {
    readonly cpuModel: string;
    readonly cpuCount: number;
    readonly cpuMHz: number;
    readonly totalMemBytes: number;
    readonly platform: string;
    readonly node: string;
    readonly loadAverageAtStart: number[];
  };
  readonly versions: Record<string, string>;
  readonly config: BenchConfig;
  readonly assertionLengthChars: number;
  readonly downstreamTokenLengthChars: number;
  readonly heap: {
    readonly emptyBytes: number;
    readonly tokenCacheConstructionBytes: number;
    readonly tokenCacheConstructionExternalBytes: number;
    /** Heap growth of the 1-user step (mostly the LRU's TTL arrays), when 1 is a level. */
    readonly oursFirstLevelBytes?: number;
  };
  readonly levels: readonly LevelResult[];
}

const BEGIN = '<!-- bench:token-cache-hit:begin -->';
const END = '<!-- bench:token-cache-hit:end -->';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => (Math.abs(bytes) < 52_429 ? '< 0.1 MB' : `${(bytes / 1048576).toFixed(1)} MB`);
const kb = (bytes: number | undefined) => (bytes === undefined ? '–' : `${(bytes / 1024).toFixed(2)} KB`);
const ratio = (r: number | undefined) => (r === undefined ? '–' : r >= 100 ? `${int(r)}×` : `${r.toFixed(r >= 10 ? 0 : 1)}×`);

/** 3 significant digits, µs / ms / s. */
export function formatUs(us: number | undefined): string {
  if (us === undefined) return '–';
  const sig = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  if (us < 1_000) return `${sig(us)} µs`;
  if (us < 1_000_000) return `${sig(us / 1_000)} ms`;
  return `${sig(us / 1_000_000)} s`;
}

function machineLine(r: BenchResult): string {
  const m = r.machine;
  return `${m.cpuCount} × ${m.cpuModel}${m.cpuMHz ? ` (${m.cpuMHz} MHz)` : ''}, ${(m.totalMemBytes / 1024 ** 3).toFixed(1)} GiB RAM, ${m.platform}, Node ${m.node}; load average at start ${m.loadAverageAtStart.map((v) => v.toFixed(2)).join(' / ')}`;
}

function reading(r: BenchResult): string[] {
  const lines: string[] = [];
  const ours = r.levels.filter((l) => l.ours);
  const msal = r.levels.filter((l) => l.msal);
  if (ours.length > 0) {
    const medians = ours.map((l) => l.ours!.medianUs);
    const spread = Math.max(...medians) / Math.min(...medians);
    const first = ours[0]!;
    const last = ours.at(-1)!;
    const shape =
      spread < 1.2
        ? 'flat'
        : `${spread.toFixed(1)}× between the fastest and slowest level. The hit path has no per-user loop (one LRU Map lookup; the SHA-256 cache key is computed once per \`Principal\` and remembered, and a repeated caller sends the same Principal from the validated-token cache); the rise fits the cost of reaching a random entry in a larger working set (CPU caches, GC), not a scan`;
    lines.push(
      `**Ours:** median hit ${formatUs(first.ours!.medianUs)} at ${int(first.users)} cached user${first.users === 1 ? '' : 's'} and ${formatUs(last.ours!.medianUs)} at ${int(last.users)}: ${shape}. p99 ranges ${formatUs(Math.min(...ours.map((l) => l.ours!.p99Us)))}–${formatUs(Math.max(...ours.map((l) => l.ours!.p99Us)))}.`,
    );
  }
  if (msal.length > 1) {
    const first = msal[0]!;
    const last = msal.at(-1)!;
    const prev = msal.at(-2)!;
    const growth = last.msal!.medianUs / prev.msal!.medianUs;
    lines.push(
      `**msal-node:** median hit ${formatUs(first.msal!.medianUs)} at ${int(first.users)} user${first.users === 1 ? '' : 's'}, ${formatUs(last.msal!.medianUs)} at ${int(last.users)} (${ratio(last.msal!.medianUs / first.msal!.medianUs)}); from ${int(prev.users)} to ${int(last.users)} users it grew ${ratio(growth)} for ${ratio(last.users / prev.users)} the users. ` +
        'Every hit rebuilds and scans the whole cache (msal-node lab, §2), so its cost grows with the number of cached users, and it is synchronous CPU work that blocks the event loop for that long.',
    );
  }
  const both = r.levels.filter((l) => l.ratioMedian !== undefined);
  if (both.length > 0) {
    lines.push(`**msal ÷ ours (median, same run):** ${both.map((l) => `${ratio(l.ratioMedian)} at ${int(l.users)}`).join(', ')}.`);
  }
  const steps = ours.filter((l) => l.ours!.marginalHeapPerUserBytes !== undefined && l.users > 1);
  if (steps.length > 0) {
    const lastStep = steps.at(-1)!;
    const tail = steps.slice(-2).map((l) => l.ours!.marginalHeapPerUserBytes!);
    const flat = Math.max(...tail) / Math.min(...tail) < 1.2;
    const msalLast = msal.at(-1)?.msal;
    lines.push(
      `**Memory:** our cache holds ${kb(lastStep.ours!.cacheHeapPerUserBytes)} of heap per cached user at ${int(lastStep.users)} users; per population step: ${steps.map((l) => `${kb(l.ours!.marginalHeapPerUserBytes)} (to ${int(l.users)})`).join(', ')}` +
        (steps.length > 1 ? ` — ${flat ? 'flat over the large steps' : 'not flat'}` : '') +
        `. Most of it is the downstream access token (${int(r.downstreamTokenLengthChars)} characters); the rest is the key, the LRU slot, expiry, scopes and the per-user index. The assertion (${int(r.assertionLengthChars)} characters) is not kept. A small first step also carries one-time JIT metadata that V8 keeps in old space (seen in a heap-snapshot diff while writing this benchmark). ` +
        (msalLast ? `msal-node holds ${kb(msalLast.cacheHeapPerUserBytes)} per user at ${int(msal.at(-1)!.users)} users (account, id token, access token and refresh token: 4 keys per user).` : ''),
    );
  }
  lines.push('The machine has 2 noisy cores: read medians and ratios within this run; absolute times move from run to run.');
  return lines;
}

/** The generated section of BENCHMARKS.md. */
export function renderSection(r: BenchResult, chartPath: string): string {
  const rows = r.levels.map((l) => {
    const o = l.ours;
    const m = l.msal;
    return `| ${int(l.users)} | ${formatUs(o?.medianUs)} | ${formatUs(o?.p99Us)} | ${o ? int(o.samples) : '–'} | ${formatUs(m?.medianUs)} | ${formatUs(m?.p99Us)} | ${m ? int(m.samples) : '–'} | ${ratio(l.ratioMedian)} | ${mb(l.heapUsedAfterGcBytes)}${l.msalCacheLive ? '' : ' ¹'} | ${o && l.users > 1 ? kb(o.cacheHeapPerUserBytes) : '–'} |`;
  });
  const memRows = r.levels
    .filter((l) => l.ours)
    .map((l) => `| ${int(l.users)} | ${int(l.ours!.cacheEntries)} | ${int(l.ours!.realUsers)} / ${int(l.ours!.stubbedUsers)} | ${mb(l.ours!.cacheHeapBytes)} | ${l.users > 1 ? kb(l.ours!.cacheHeapPerUserBytes) : '(fixed)'} | ${l.users > 1 ? kb(l.ours!.marginalHeapPerUserBytes) : '–'} |`);
  const msalRows = r.levels
    .filter((l) => l.msal)
    .map((l) => `| ${int(l.users)} | ${int(l.msal!.cacheKeys)} | ${int(l.msal!.realUsers)} / ${int(l.msal!.seededUsers)} | ${mb(l.msal!.cacheHeapBytes)} | ${l.users > 1 ? kb(l.msal!.cacheHeapPerUserBytes) : '–'} |`);
  const c = r.config;
  const oursLevels = r.levels.filter((l) => l.ours).map((l) => l.users);
  const stubbed = r.levels.some((l) => (l.ours?.stubbedUsers ?? 0) > 0);
  return [
    BEGIN,
    '<!-- Generated by `npm run bench` (bench/token-cache-hit.bench.ts); edits between these markers are overwritten. -->',
    '',
    '## Token cache hit: nestjs-obo vs plain msal-node',
    '',
    'One process, one run, the same users: a cache hit of `TokenAcquisition.getAuthenticationResultForUser(scopes, { principal })`',
    '(ours) against `acquireTokenOnBehalfOf({ oboAssertion, scopes })` on one shared msal-node `ConfidentialClientApplication`',
    'with its default in-memory cache (the way msal-node is used today), as the number of cached users grows.',
    '',
    `- **Run:** ${r.date}, ${r.durationSeconds} s in total.`,
    `- **Machine:** ${machineLine(r)}.`,
    `- **Libraries:** @azure/msal-node ${r.versions.msalNode} (msal-common ${r.versions.msalCommon}), lru-cache ${r.versions.lruCache}.`,
    `- **Command:** \`${r.command}\` (= \`node scripts/bench.mjs\`: makes the local authority's TLS certificate with openssl and trusts it through \`NODE_EXTRA_CA_CERTS\`, compiles with \`tsc -p tsconfig.bench.json\` into \`dist/bench\`, runs \`node --expose-gc dist/bench/bench/token-cache-hit.bench.js\`; JSON in \`bench/results/\`).`,
    '',
    '| cached users | ours median | ours p99 | ours samples | msal median | msal p99 | msal samples | msal ÷ ours (median) | heapUsed after gc | our heap / cached user |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'heapUsed is the whole process: both caches (¹ except where marked: the msal baseline\'s cache was dropped after its last level), the local authority, and the',
    'benchmark\'s own users at that level (assertions and Principals, which belong to neither cache). Per-user cache memory is in the next section.',
    '',
    `![Hit latency vs cached users, ours vs msal-node (log-log)](${chartPath})`,
    '',
    '### Reading',
    '',
    ...reading(r).map((line) => `- ${line}`),
    '',
    '### Memory',
    '',
    'Heap growth of **our** cache across each population step: heapUsed after `gc()` (repeated, with a macrotask in between, until it settles), minus V8\'s code',
    'spaces (JIT output, which keeps growing while the process warms up). The users\' assertions and Principals are created before the "before" snapshot;',
    'before the "after" one the authority\'s per-user request counters are reset, the population\'s per-call deadline timers (`tokenAcquisition.timeoutMs`, 2 s here)',
    'have fired, and idle keep-alive connections are closed, so none of these is counted.',
    '',
    '| cached users | entries | populated real / stubbed | cache heap | heap per cached user ² | marginal heap per user since previous level |',
    '|---:|---:|---:|---:|---:|---:|',
    ...memRows,
    '',
    r.heap.oursFirstLevelBytes !== undefined
      ? `² (cache heap − the 1-user step's ${mb(r.heap.oursFirstLevelBytes)}) ÷ (users − 1). The 1-user step is a fixed cost: lru-cache allocates its two TTL arrays (\`ttls\`, \`starts\`: JS arrays of ${int(c.cacheMaxEntries)} doubles, ${mb(2 * 8 * c.cacheMaxEntries)}) with the first entry. Building the TokenCache with \`cacheMaxEntries: ${c.cacheMaxEntries}\` costs another ${mb(r.heap.tokenCacheConstructionBytes)} of heap and ${mb(r.heap.tokenCacheConstructionExternalBytes)} of typed arrays up front (key/value lists and links preallocated per \`max\`), not counted here. One-time costs are excluded: before any snapshot, a warm-up runs the same paths (real and stubbed population, hits; msal population, seeding and hits) on throwaway caches and ${int(c.warmUsers)} throwaway users.`
      : `² cache heap ÷ users.`,
    '',
    'msal-node baseline, same method (its cache grows by the same heap-delta measurement around its own population steps):',
    '',
    '| cached users | cache keys | populated real / seeded | cache heap | heap per cached user |',
    '|---:|---:|---:|---:|---:|',
    ...msalRows,
    '',
    '### Method',
    '',
    `- **Users:** each has its own access token for the Original API, minted and RS256-signed by the local authority (\`LocalAuthority\` from \`libs/obo/testing\`, https on 127.0.0.1, in this process, on the same cores; idle while hits are measured), ${int(r.assertionLengthChars)} characters, with the usual Entra v2.0 claims. The \`Principal\` is built from its claims as the guard would. Ours and msal cache the same users.`,
    `- **Ours** is the module's real providers without Nest DI: \`resolveOboOptions\` (\`tokenAcquisition.cacheMaxEntries: ${c.cacheMaxEntries}\`), \`TokenCache\`, \`MsalTokenExchanger\` with \`createConfidentialClient\`, \`RequestContext\`, \`TokenAcquisition\`; no second-level store (Redis) configured. ` +
      (stubbed
        ? `Users up to ${int(r.config.oursRealMax)} were cached through real On-Behalf-Of requests to the token endpoint (msal-node underneath); the rest through the same \`getAuthenticationResultForUser\` call on a second \`TokenAcquisition\` sharing the same \`TokenCache\`, whose exchanger mints the access token the endpoint would have issued (population only; hits never reach an exchanger).`
        : `Every cached user (up to ${int(Math.max(...oursLevels))}) was cached through a real On-Behalf-Of request to the token endpoint (a cache miss of \`getAuthenticationResultForUser\`, msal-node underneath), ${c.populateConcurrency} in flight.`),
    `- **msal-node:** \`new ConfidentialClientApplication({ auth: { clientId, authority, clientSecret, knownAuthorities: [host:port] } })\`, default cache. Users up to ${int(r.config.msalRealMax)} were cached through real On-Behalf-Of requests (4 in flight). Beyond that, the four entries msal wrote for user 0 (account, id token, access token, refresh token) are cloned per user with the user's \`oid\` in every key and in \`homeAccountId\`/\`clientInfo\`, \`userAssertionHash\` = unpadded base64url SHA-256 of the user's assertion (msal's \`CryptoProvider.hashString\`), the id and access tokens re-signed with the user's claims, a fresh refresh token, and written with msal's own \`NodeStorage.setItem\` (the msal-node lab's seeding). The key count is checked (4 per user + 1 authority metadata), and the first and last seeded users of each step are checked to be cache hits returning exactly their seeded access token. (msal-node 7.2.1 returns \`account: null\` on every OBO cache hit, real or seeded: \`readIdTokenFromCacheForOBO\` calls \`Object.values\` on a \`Map\`, so the id-token lookup, a full scan, never finds anything.)`,
    `- **Sampling:** per level, a warm-up, then ${r.config.rounds} alternating rounds (ours, then msal) of awaited calls for a uniformly random cached user, timed one by one with \`process.hrtime\`. Ours: up to ${int(c.ours.maxMs / 1000)} s or ${int(c.ours.maxSamples)} samples per level. msal: up to ${int(c.msal.maxMs / 1000)} s per level (at least ${c.msal.minSamples} samples, at most ${int(c.msal.maxSamples)}). p99 is nearest-rank; with few samples it is close to the maximum.`,
    '- **Checks:** every measured call must return `fromCache === true`, and the authority must see zero token and discovery requests (and our exchanger zero calls) during each level\'s measurement; the run aborts otherwise.',
    '',
    END,
  ].join('\n');
}

/** Creates BENCHMARKS.md or replaces its marked section. */
export function updateBenchmarksMd(path: string, r: BenchResult, chartPath: string): void {
  const section = renderSection(r, chartPath);
  if (!existsSync(path)) {
    writeFileSync(path, `# Benchmarks\n\nMeasured with \`npm run bench\`. Sections between \`bench:*\` markers are generated; do not edit them by hand.\n\n${section}\n`);
    return;
  }
  const text = readFileSync(path, 'utf8');
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const next = begin >= 0 && end > begin ? `${text.slice(0, begin)}${section}${text.slice(end + END.length)}` : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}

const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** Hit latency (median solid, p99 dashed) vs cached users, log-log, ours vs msal: a hand-written SVG. */
export function renderChart(r: BenchResult): string {
  const W = 760;
  const H = 460;
  const m = { left: 78, right: 40, top: 62, bottom: 58 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const series = [
    { name: 'nestjs-obo', color: '#1565c0', points: r.levels.filter((l) => l.ours).map((l) => ({ users: l.users, median: l.ours!.medianUs, p99: l.ours!.p99Us })) },
    { name: 'msal-node (shared CCA)', color: '#c62828', points: r.levels.filter((l) => l.msal).map((l) => ({ users: l.users, median: l.msal!.medianUs, p99: l.msal!.p99Us })) },
  ];
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, Math.ceil(Math.log10(Math.max(10, ...all.map((p) => p.users)))));
  const lowest = Math.log10(Math.min(...all.map((p) => p.median)));
  const yMin = Math.floor(lowest) - (lowest - Math.floor(lowest) < 0.35 ? 1 : 0); // room for the labels under our points
  const yMax = Math.ceil(Math.log10(Math.max(...all.map((p) => p.p99))));
  const x = (users: number) => m.left + (Math.log10(users) / xMax) * pw;
  const y = (us: number) => m.top + ph - ((Math.log10(us) - yMin) / Math.max(1, yMax - yMin)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">OBO token cache hit: latency per hit vs cached users</text>`);
  out.push(
    `<text x="${W / 2}" y="44" text-anchor="middle" fill="#555">${escape(`log-log; median solid, p99 dashed; ${r.machine.cpuCount} × ${r.machine.cpuModel}, Node ${r.machine.node}, ${r.date.slice(0, 10)}`)}</text>`,
  );
  for (let d = 0; d <= xMax; d++) {
    const px = x(10 ** d);
    out.push(`<line x1="${px}" y1="${m.top}" x2="${px}" y2="${m.top + ph}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${px}" y="${m.top + ph + 18}" text-anchor="middle">${int(10 ** d)}</text>`);
  }
  for (let d = yMin; d <= yMax; d++) {
    const py = y(10 ** d);
    out.push(`<line x1="${m.left}" y1="${py}" x2="${m.left + pw}" y2="${py}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${m.left - 8}" y="${py + 4}" text-anchor="end">${escape(formatUs(10 ** d).replace(/\.0+ /, ' '))}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 16}" text-anchor="middle">cached users</text>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">time per cache hit</text>`);
  for (const s of series) {
    if (s.points.length === 0) continue;
    const path = (key: 'median' | 'p99') => s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.users).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
    out.push(`<path d="${path('p99')}" fill="none" stroke="${s.color}" stroke-width="1.5" stroke-dasharray="5 4" opacity="0.7"/>`);
    out.push(`<path d="${path('median')}" fill="none" stroke="${s.color}" stroke-width="2.5"/>`);
    for (const p of s.points) {
      out.push(`<circle cx="${x(p.users).toFixed(1)}" cy="${y(p.median).toFixed(1)}" r="4.5" fill="${s.color}"/>`);
      const labelY = s.name === 'nestjs-obo' ? y(p.median) + 20 : y(p.median) - 10;
      out.push(`<text x="${x(p.users).toFixed(1)}" y="${labelY.toFixed(1)}" text-anchor="middle" fill="${s.color}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${escape(formatUs(p.median))}</text>`);
    }
  }
  const lx = m.left + 14;
  let ly = m.top + 18;
  for (const s of series) {
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 26}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"/>`);
    out.push(`<text x="${lx + 34}" y="${ly}">${escape(s.name)}</text>`);
    ly += 18;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
