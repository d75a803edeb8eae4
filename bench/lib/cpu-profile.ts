// Reads a V8 CPU profile (`node --cpu-prof`), keeps the samples taken inside a time window (the
// load phase, not startup or warm-up) and buckets self time by package / file.
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

/** Where a frame's code lives, most specific first: a file of ours, a package, a Node core area, or a V8 pseudo-frame. */
export interface Location {
  /** Group shown in the breakdown (e.g. `nestjs-obo`, `@nestjs/core`, `node:crypto`, `GC`). */
  group: string;
  /** Finer name: our source file, the package, or the Node core module. */
  detail: string;
}

const PACKAGE_GROUPS: Record<string, string> = {
  undici: 'undici (request)',
  passport: 'passport / passport-jwt',
  'passport-jwt': 'passport / passport-jwt',
  'passport-strategy': 'passport / passport-jwt',
  '@nestjs/passport': 'passport / passport-jwt',
  jsonwebtoken: 'jsonwebtoken (+ jws, jwa)',
  jws: 'jsonwebtoken (+ jws, jwa)',
  jwa: 'jsonwebtoken (+ jws, jwa)',
  'buffer-equal-constant-time': 'jsonwebtoken (+ jws, jwa)',
  'ecdsa-sig-formatter': 'jsonwebtoken (+ jws, jwa)',
  'safe-buffer': 'jsonwebtoken (+ jws, jwa)',
  semver: 'jsonwebtoken (+ jws, jwa)',
  ms: 'jsonwebtoken (+ jws, jwa)',
  'jwks-rsa': 'jwks-rsa (+ lru-memoizer)',
  'lru-memoizer': 'jwks-rsa (+ lru-memoizer)',
  'lodash.clonedeep': 'jwks-rsa (+ lru-memoizer)',
  '@nestjs/core': '@nestjs/core',
  '@nestjs/common': '@nestjs/common',
  '@nestjs/platform-express': '@nestjs/platform-express',
  rxjs: 'rxjs (Nest)',
  'reflect-metadata': 'reflect-metadata',
  'lru-cache': 'lru-cache',
};
const EXPRESS_FAMILY = new Set([
  'express', 'router', 'body-parser', 'finalhandler', 'send', 'serve-static', 'on-finished', 'ee-first', 'parseurl', 'path-to-regexp', 'qs', 'type-is',
  'media-typer', 'mime-types', 'mime-db', 'content-type', 'content-disposition', 'accepts', 'negotiator', 'fresh', 'etag', 'range-parser', 'proxy-addr',
  'forwarded', 'ipaddr.js', 'depd', 'debug', 'http-errors', 'statuses', 'setprototypeof', 'inherits', 'toidentifier', 'cookie', 'cookie-signature',
  'vary', 'encodeurl', 'escape-html', 'merge-descriptors', 'utils-merge', 'methods', 'raw-body', 'iconv-lite', 'bytes', 'unpipe', 'is-promise',
  'safer-buffer', 'once', 'wrappy', 'object-inspect', 'side-channel', 'call-bind', 'get-intrinsic', 'has-symbols', 'function-bind', 'hasown', 'es-errors',
  'math-intrinsics', 'dunder-proto', 'call-bound', 'es-object-atoms', 'gopd', 'get-proto', 'side-channel-list', 'side-channel-map', 'side-channel-weakmap',
  'call-bind-apply-helpers', 'es-define-property', 'router',
]);

function packageOf(url: string): string | undefined {
  const at = url.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const rest = url.slice(at + '/node_modules/'.length).split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

function nodeCore(url: string): Location {
  const name = url.slice('node:'.length);
  if (/^(internal\/)?crypto/.test(name)) return { group: 'node:crypto', detail: url };
  if (name.startsWith('internal/deps/undici')) return { group: 'undici (fetch)', detail: 'undici in Node' };
  if (name.startsWith('internal/webstreams')) return { group: 'web streams (fetch bodies)', detail: url };
  if (/async_hooks|async_local_storage|async_context/.test(name)) return { group: 'node:async_hooks (AsyncLocalStorage)', detail: url };
  if (/^(_http_|internal\/http|http$|internal\/streams\/|stream|net$|internal\/net|internal\/stream_base_commons|internal\/js_stream)/.test(name)) {
    return { group: 'node:http / net / streams', detail: url };
  }
  if (/timers|internal\/abort_controller|internal\/event_target|events$|internal\/events/.test(name)) return { group: 'node: timers, events, AbortSignal', detail: url };
  return { group: 'node: other core', detail: url };
}

/** Buckets a frame with a url; frames without one (native functions) take their caller's. */
export function locate(url: string, ourRoot: string): Location | undefined {
  if (url === '') return undefined;
  if (url.startsWith('node:')) return nodeCore(url);
  const ours = url.indexOf('/libs/obo/src/');
  if (ours >= 0 && !url.includes('/node_modules/')) {
    return { group: 'nestjs-obo (libs/obo/src)', detail: `libs/obo/src/${url.slice(ours + '/libs/obo/src/'.length).replace(/\.js$/, '.ts')}` };
  }
  const pkg = packageOf(url);
  if (pkg) {
    const group = PACKAGE_GROUPS[pkg] ?? (EXPRESS_FAMILY.has(pkg) ? 'express (+ router, deps)' : `other packages`);
    return { group, detail: pkg };
  }
  if (url.includes('/bench/servers/')) return { group: 'bench server entry (route handler)', detail: url.slice(url.indexOf('/bench/servers/') + 1) };
  if (url.includes('/bench/lib/')) return { group: 'bench harness (IPC)', detail: url.slice(url.indexOf('/bench/lib/') + 1) };
  return { group: 'other code', detail: url.replace(`file://${ourRoot}/`, '') };
}

export interface Bucket {
  group: string;
  /** Self time inside the window, µs. */
  selfUs: number;
  /** Per file / package, µs. */
  details: Record<string, number>;
}

export interface FunctionCost {
  name: string;
  where: string;
  group: string;
  selfUs: number;
}

export interface ProfileBreakdown {
  /** Sampled time inside the window, µs (idle excluded). */
  busyUs: number;
  idleUs: number;
  samples: number;
  buckets: Bucket[];
  functions: FunctionCost[];
}

/** A time window in the profile's clock (`process.hrtime` µs of the profiled process). */
export type Window = [fromUs: number, toUs: number];

/**
 * Self time per group inside the windows (e.g. the load runs, not startup, warm-up or the pauses
 * between runs). A sample's time is the gap to the next sample, as in Chrome DevTools.
 */
export function breakdown(profile: CpuProfile, windows: Window[], ourRoot: string): ProfileBreakdown {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const locationCache = new Map<number, Location>();
  const special = new Map([
    ['(garbage collector)', 'GC'],
    ['(program)', 'V8 / native (program)'],
  ]);
  const locationOf = (id: number): Location => {
    const cached = locationCache.get(id);
    if (cached) return cached;
    const node = byId.get(id)!;
    const { functionName, url } = node.callFrame;
    const pseudo = url === '' ? special.get(functionName) : undefined;
    let location: Location | undefined = pseudo ? { group: pseudo, detail: functionName } : locate(url, ourRoot);
    if (!location) {
      const up = parent.get(id);
      const callerLocation = up !== undefined && byId.get(up)!.callFrame.functionName !== '(root)' ? locationOf(up) : undefined;
      location = callerLocation ?? { group: 'V8 / native (program)', detail: functionName || '(anonymous native)' };
    }
    locationCache.set(id, location);
    return location;
  };
  const groups = new Map<string, { selfUs: number; details: Record<string, number> }>();
  const functions = new Map<string, FunctionCost>();
  let busy = 0;
  let idle = 0;
  let count = 0;
  let t = profile.startTime;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i]!;
    const duration = i + 1 < samples.length ? timeDeltas[i + 1]! : 0;
    if (duration <= 0 || !windows.some(([from, to]) => t >= from && t <= to)) continue;
    const node = byId.get(samples[i]!)!;
    const name = node.callFrame.functionName;
    if (name === '(idle)') {
      idle += duration;
      continue;
    }
    if (name === '(root)') continue;
    count++;
    busy += duration;
    const location = locationOf(node.id);
    const group = groups.get(location.group) ?? { selfUs: 0, details: {} };
    group.selfUs += duration;
    group.details[location.detail] = (group.details[location.detail] ?? 0) + duration;
    groups.set(location.group, group);
    const { url, lineNumber } = node.callFrame;
    const where = url ? `${shortUrl(url, ourRoot)}:${lineNumber + 1}` : '(native)';
    const key = `${name}@${where}`;
    const fn = functions.get(key) ?? { name: name || '(anonymous)', where, group: location.group, selfUs: 0 };
    functions.set(key, { ...fn, selfUs: fn.selfUs + duration });
  }
  return {
    busyUs: busy,
    idleUs: idle,
    samples: count,
    buckets: [...groups.entries()].map(([group, g]) => ({ group, selfUs: g.selfUs, details: g.details })).sort((a, b) => b.selfUs - a.selfUs),
    functions: [...functions.values()].sort((a, b) => b.selfUs - a.selfUs),
  };
}

function shortUrl(url: string, ourRoot: string): string {
  const pkg = packageOf(url);
  if (pkg) return `${pkg}/${url.slice(url.lastIndexOf(`/node_modules/${pkg}/`) + `/node_modules/${pkg}/`.length)}`;
  const ours = url.indexOf('/libs/obo/src/');
  if (ours >= 0) return `libs/obo/src/${url.slice(ours + '/libs/obo/src/'.length).replace(/\.js$/, '.ts')}`;
  return url.replace(`file://${ourRoot}/dist/bench/`, '').replace(`file://${ourRoot}/`, '');
}
