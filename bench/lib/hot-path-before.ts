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
  readonly endToEnd?: RecordedRun<'ours' | 'ours@before' | 'baseline' | 'baseline+als' | 'baseline+als+deadline'> & {
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
    note: 'Recorded with `BENCH_COMPARE_DIST=<build of commit 2d9d26e> npm run bench -- end-to-end` on 2026-11-22T02:25:21.022Z (10 rounds × 2 s per variant; load average at start 1.29 / 1.93 / 1.84; raw JSON `bench/results/end-to-end-compare-2026-11-22T02-25-21-022Z.json`).',
    variants: {
      ours: { requestsPerSecond: 4589.1, medianUs: 1676.32, p99Us: 9713.59, cpuUsPerRequest: 251.2 },
      baseline: { requestsPerSecond: 6026.9, medianUs: 1230.38, p99Us: 7602.98, cpuUsPerRequest: 192.0 },
      'baseline+als': { requestsPerSecond: 5545.6, medianUs: 1389.28, p99Us: 7505.62, cpuUsPerRequest: 210.3 },
      'baseline+als+deadline': { requestsPerSecond: 5327.5, medianUs: 1421.03, p99Us: 8512.54, cpuUsPerRequest: 216.8 },
      'ours@before': { requestsPerSecond: 4288.4, medianUs: 1804.38, p99Us: 8261.61, cpuUsPerRequest: 269.1 },
    },
    profileUsPerRequest: {
      before: {
        'node:http / net / streams': 51.36,
        'undici (fetch)': 37.01,
        'express (+ router, deps)': 34.38,
        'GC': 31.50,
        'node: other core': 21.40,
        'node: timers, events, AbortSignal': 14.57,
        'nestjs-obo (libs/obo/src)': 10.36,
        'node:async_hooks (AsyncLocalStorage)': 10.29,
        'web streams (fetch bodies)': 7.06,
        'node:crypto': 6.66,
        '@nestjs/core': 4.22,
        'V8 / native (program)': 3.71,
        'lru-cache': 2.50,
        'other code': 2.10,
        '@nestjs/platform-express': 1.42,
        'reflect-metadata': 0.91,
        '@nestjs/common': 0.37,
        'bench server entry (route handler)': 0.24,
      },
      after: {
        'node:http / net / streams': 48.34,
        'undici (fetch)': 39.89,
        'express (+ router, deps)': 31.08,
        'GC': 30.93,
        'node: other core': 19.20,
        'node: timers, events, AbortSignal': 12.16,
        'node:async_hooks (AsyncLocalStorage)': 9.24,
        'nestjs-obo (libs/obo/src)': 7.92,
        'web streams (fetch bodies)': 5.09,
        '@nestjs/core': 4.39,
        'V8 / native (program)': 4.08,
        'lru-cache': 3.69,
        'node:crypto': 1.74,
        'other code': 1.67,
        '@nestjs/platform-express': 1.24,
        '@nestjs/common': 0.58,
        'bench server entry (route handler)': 0.37,
      },
    },
  },
};
