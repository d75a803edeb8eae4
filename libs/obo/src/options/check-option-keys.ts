import { OboConfigurationError } from '../errors/obo.error.js';
import { OBO_OPTION_KEYS, type KeyTree } from './option-keys.js';

const ROOT: KeyTree = { kind: 'object', keys: OBO_OPTION_KEYS };
/** `forRoot()` extras: Nest strips them from `forRoot({...})`, so here they come from an options factory. */
const EXTRAS = new Set(['isGlobal', 'globalGuard']);
/** Names users bring from other libraries, and what to use instead. */
const HINTS: Readonly<Record<string, string>> = {
  jwksuri: 'The JWKS URI comes from the discovery document of instance + tenantId; for app-specific keys (?appid=) set jwks.appSpecificKeys. (protectedResource.jwksUri is something else: this API\'s own response-signing keys, published in its RFC 9728 metadata.)',
  authority: 'Give the host as instance (e.g. "https://login.microsoftonline.com/") and the tenant as tenantId.',
};

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive:
 * `tenantID`, `clientSecert` and `scope` are one step or less from the real names.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) d[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[s.length]![t.length]!;
}

/** Every option path of the tree (`downstreamApis.<name>.baseUrl` for records), with its last segment. */
function allPaths(tree: KeyTree, prefix: string): { path: string; name: string }[] {
  const inner = tree.kind === 'record' ? `${prefix}.<name>` : prefix;
  return Object.entries(tree.keys).flatMap(([name, node]) => {
    const path = inner ? `${inner}.${name}` : name;
    return [{ path, name }, ...(node === 'value' ? [] : allPaths(node, path))];
  });
}

/** Close enough to be a typo (at most a third of the longer name, and at most 3 edits), or `key` shortens `name` (`cooldown`). */
function isClose(key: string, name: string): boolean {
  const distance = editDistance(key, name);
  if (distance <= Math.min(3, Math.max(1, Math.floor(Math.max(key.length, name.length) / 3)))) return true;
  return key.length >= 4 && name.toLowerCase().startsWith(key.toLowerCase());
}

function suggestion(key: string, tree: KeyTree, parentPath: string): string {
  const hint = Object.hasOwn(HINTS, key.toLowerCase()) ? HINTS[key.toLowerCase()] : undefined; // never an inherited member (`constructor`)
  const ranked = Object.keys(tree.keys)
    .filter((name) => isClose(key, name))
    .map((name) => ({ name, distance: editDistance(key, name) }))
    .sort((x, y) => x.distance - y.distance);
  const here = (name: string): string => (parentPath ? `${parentPath}.${name}` : name);
  if (ranked.length > 0) return `did you mean "${here(ranked[0]!.name)}"?${hint ? ` ${hint}` : ''}`;
  // A curated hint answers better than a same-named option at another level (`jwks.jwksUri` is not `protectedResource.jwksUri`).
  const elsewhere = hint ? [] : allPaths(ROOT, '').filter(({ name }) => isClose(key, name)).map(({ path }) => `"${path}"`);
  if (elsewhere.length > 0) return `did you mean ${elsewhere.slice(0, 3).join(' or ')} (at another level)?${hint ? ` ${hint}` : ''}`;
  const known = Object.keys(tree.keys).join(', ');
  return `no option has a close name${hint ? `. ${hint}` : ''} (${parentPath || 'the options object'} takes: ${known}).`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function walk(value: Record<string, unknown>, tree: KeyTree, path: string): void {
  for (const key of Object.keys(value)) {
    const option = path ? `${path}.${key}` : key;
    const node = Object.hasOwn(tree.keys, key) ? tree.keys[key] : undefined;
    if (node === undefined) {
      if (!path && EXTRAS.has(key)) {
        throw new OboConfigurationError(option, 'is a module extra, not an option: pass it to forRoot()/forRootAsync() beside the options, not from the options factory.');
      }
      throw new OboConfigurationError(option, `is not an option (misspelled, or from another library or version): ${suggestion(key, tree, path)}`);
    }
    const child = value[key];
    // Only plain objects are walked: a client the user owns (ioredis, a Dispatcher) or a function is a
    // value, and a value of the wrong type is for the option's own check to refuse.
    if (node === 'value' || !isPlainObject(child)) continue;
    if (node.kind === 'object') walk(child, node, option);
    else for (const [name, entry] of Object.entries(child)) if (isPlainObject(entry)) walk(entry, { kind: 'object', keys: node.keys }, `${option}.${name}`);
  }
}

/**
 * Refuses any key that is not an option, at every level (`jwks`, `tokenAcquisition`, each
 * `downstreamApis.<name>`, `distributedCache`, `clientCertificate`...), naming its full path and
 * the closest real option: a misspelled option is otherwise silently ignored.
 * @throws {OboConfigurationError}
 */
export function checkOptionKeys(options: object): void {
  walk(options as Record<string, unknown>, ROOT, '');
}
