import { readFile, stat } from 'node:fs/promises';
import { OboError } from '../../errors/obo.error.js';
import type { ResolvedAssertionCredential } from '../../options/resolve-outbound-options.js';

/** A kept assertion is re-read this long before its own `exp`, in milliseconds. */
export const ASSERTION_EXPIRY_MARGIN_MS = 60_000;
/** Largest federated token file read, in bytes (a projected service-account token is ~1 KB). */
const MAX_FILE_BYTES = 64 * 1024;

function refused(detail: string, cause?: unknown): OboError {
  return new OboError('ERR_OBO_CLIENT_CREDENTIALS_INVALID', `No client assertion: ${detail}.`, { cause });
}

/** `exp` of a JWT in epoch ms (decoded only: the authority checks it), or undefined. */
function expiryOf(assertion: string): number | undefined {
  const payload = assertion.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const exp: unknown = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined; // not a JWT we can read: the authority decides
  }
}

/**
 * This API's client assertion for each token request (msal-node 7 asks once per request). A
 * callback is called every time, so it decides what it caches. A federated token file (AKS
 * workload identity mounts one and rotates it, `AZURE_FEDERATED_TOKEN_FILE`) is kept while the
 * file is unchanged (inode, size, mtime) and its `exp` is more than a minute away, and re-read
 * otherwise. {@link discard} forgets the kept one (the provider said it is expired or not yet
 * valid). Assertions are never logged; failures name the file or the callback, never the text.
 */
export class ClientAssertionSource {
  private kept?: { readonly text: string; readonly version: string };

  constructor(private readonly credential: ResolvedAssertionCredential) {}

  /** @throws {OboError} `ERR_OBO_CLIENT_CREDENTIALS_INVALID` when no assertion can be had. */
  get(): Promise<string> {
    const file = this.credential.federatedTokenFile;
    return file === undefined ? this.fromCallback(this.credential.clientAssertion!) : this.fromFile(file);
  }

  /** Forgets the kept assertion: the next request reads a fresh one. */
  discard(): void {
    this.kept = undefined;
  }

  private async fromCallback(callback: () => Promise<string>): Promise<string> {
    let assertion: unknown;
    try {
      assertion = await callback();
    } catch (error) {
      throw refused(`the clientAssertion callback failed (${error instanceof Error ? error.name : typeof error})`, error);
    }
    if (typeof assertion !== 'string' || assertion.length === 0) throw refused('the clientAssertion callback returned no assertion (an empty or non-string value)');
    return assertion;
  }

  private async fromFile(path: string): Promise<string> {
    let version: string;
    try {
      const info = await stat(path);
      if (info.size > MAX_FILE_BYTES) throw refused(`the federated token file ${path} is larger than ${MAX_FILE_BYTES} bytes`);
      version = `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch (error) {
      if (error instanceof OboError) throw error;
      throw refused(`the federated token file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, error);
    }
    const kept = this.kept;
    if (kept !== undefined && kept.version === version && (expiryOf(kept.text) ?? Infinity) - ASSERTION_EXPIRY_MARGIN_MS > Date.now()) return kept.text;
    let text: string;
    try {
      text = (await readFile(path, 'utf8')).trim();
    } catch (error) {
      throw refused(`the federated token file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, error);
    }
    if (text.length === 0) throw refused(`the federated token file ${path} is empty`);
    this.kept = { text, version };
    return text;
  }
}
