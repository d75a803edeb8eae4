// The before / after record of the hot-path changes of issue 5 ("then make it faster"): one run of
// each HTTP bench with BENCH_COMPARE_DIST pointing at a build of the library before the changes
// (commit 2d9d26e), so both builds alternate in the same rounds. Rendered into the generated
// sections; an empty object hides the before / after tables.
export interface RecordedVariant {
  readonly requestsPerSecond: number;
  readonly medianUs: number;
  readonly p99Us: number;
  readonly cpuUsPerRequest: number;
}

export interface RecordedRun<K extends string> {
  /** How, when and with which builds the numbers were taken. */
  readonly note: string;
  readonly variants: Record<K, RecordedVariant>;
}

export const HOT_PATH_BEFORE: {
  readonly inbound?: RecordedRun<'ours-full' | 'ours-cached' | 'ours-full@before' | 'ours-cached@before' | 'passport-jwks' | 'none'>;
  readonly endToEnd?: RecordedRun<'ours' | 'ours@before' | 'baseline' | 'baseline+als' | 'baseline+als+deadline' | 'baseline-fetch'> & {
    /** Profile self time per request by group, µs: the build before the changes and after. */
    readonly profileUsPerRequest?: { readonly before: Record<string, number>; readonly after: Record<string, number> };
  };
} = {
  inbound: {
    note: 'Recorded with `BENCH_COMPARE_DIST=<build of commit 2d9d26e> npm run bench -- inbound` on 2026-11-22T02:17:24.938Z (10 rounds × 2 s per variant; load average at start 1.84 / 1.76 / 1.70; raw JSON `bench/results/inbound-validation-compare-2026-11-22T02-17-24-938Z.json`).',
    variants: {
      'ours-full': { requestsPerSecond: 5397.6, medianUs: 1369.91, p99Us: 8836.44, cpuUsPerRequest: 222.1 },
      'ours-cached': { requestsPerSecond: 11494.8, medianUs: 659.73, p99Us: 6284.37, cpuUsPerRequest: 103.2 },
      'passport-jwks': { requestsPerSecond: 3678.8, medianUs: 2277.45, p99Us: 9703.39, cpuUsPerRequest: 317.0 },
      none: { requestsPerSecond: 14925.6, medianUs: 520, p99Us: 3986.1, cpuUsPerRequest: 79.9 },
      'ours-full@before': { requestsPerSecond: 5078.9, medianUs: 1442.77, p99Us: 9483.89, cpuUsPerRequest: 234.7 },
      'ours-cached@before': { requestsPerSecond: 10552.2, medianUs: 712.59, p99Us: 6193.17, cpuUsPerRequest: 115.2 },
    },
  },
  endToEnd: {
    note: 'Recorded with `BENCH_COMPARE_DIST=<build of commit 2d9d26e> npm run bench -- end-to-end` at commit b42f97e ("after"; the validated-token key change and the settle runs came later) on 2026-11-22T03:37:49.461Z (10 rounds × 2 s per variant; load average at start 1.49 / 1.06 / 0.84; raw JSON `bench/results/end-to-end-compare-2026-11-22T03-37-49-461Z.json`).',
    variants: {
      ours: { requestsPerSecond: 8532.1, medianUs: 953.35, p99Us: 10279.92, cpuUsPerRequest: 138 },
      baseline: { requestsPerSecond: 10499.9, medianUs: 752.05, p99Us: 5695.5, cpuUsPerRequest: 107.5 },
      'baseline+als': { requestsPerSecond: 9871.3, medianUs: 828.21, p99Us: 7275.12, cpuUsPerRequest: 113.6 },
      'baseline+als+deadline': { requestsPerSecond: 10091.7, medianUs: 827.27, p99Us: 7940.2, cpuUsPerRequest: 111.2 },
      'baseline-fetch': { requestsPerSecond: 5570.7, medianUs: 1359.74, p99Us: 11633.08, cpuUsPerRequest: 211 },
      'ours@before': { requestsPerSecond: 4170.8, medianUs: 1872.75, p99Us: 10226.68, cpuUsPerRequest: 280.6 },
    },
    profileUsPerRequest: {
      before: {
        'node:http / net / streams': 54.38,
        'undici (fetch)': 39.55,
        GC: 35.09,
        'express (+ router, deps)': 31.26,
        'node: other core': 20.98,
        'node: timers, events, AbortSignal': 14.35,
        'nestjs-obo (libs/obo/src)': 11.01,
        'node:async_hooks (AsyncLocalStorage)': 10.16,
        'node:crypto': 7.11,
        'web streams (fetch bodies)': 6.93,
        'V8 / native (program)': 3.95,
        '@nestjs/core': 3.85,
        'lru-cache': 2.73,
        'other code': 1.82,
        '@nestjs/platform-express': 1.48,
        'reflect-metadata': 0.86,
        '@nestjs/common': 0.64,
        'bench server entry (route handler)': 0.43,
      },
      after: {
        'nestjs-obo (libs/obo/src)': 5.3,
        'node:http / net / streams': 36.42,
        'node: other core': 8.49,
        'node:async_hooks (AsyncLocalStorage)': 4.38,
        'undici (request)': 9.1,
        'express (+ router, deps)': 27.3,
        'lru-cache': 2.18,
        'node: timers, events, AbortSignal': 4.45,
        '@nestjs/core': 2.06,
        'V8 / native (program)': 2.67,
        GC: 8.27,
        'other code': 1.01,
        'node:crypto': 1.24,
        '@nestjs/common': 0.4,
        '@nestjs/platform-express': 0.96,
        'bench server entry (route handler)': 0.29,
      },
    },
  },
};
