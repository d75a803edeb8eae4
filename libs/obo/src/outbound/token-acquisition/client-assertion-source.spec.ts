import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OboError } from '../../errors/obo.error.js';
import { ClientAssertionSource } from './client-assertion-source.js';

/** An unsigned JWT-shaped assertion whose `exp` is `expInSeconds` from now, padded to a fixed length. */
function assertion(expInSeconds: number, marker: string): string {
  const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + expInSeconds, jti: marker })).toString('base64url');
  return `eyJhbGciOiJSUzI1NiJ9.${payload}.signature`;
}

async function failure(promise: Promise<unknown>): Promise<OboError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OboError);
  return error as OboError;
}

describe('#114 ClientAssertionSource', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'obo-assertion-'));
    file = join(dir, 'token');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A modification time in whole seconds, so setting it again gives the very same `mtimeMs`. */
  const fixedTime = Math.floor(Date.now() / 1000) - 60;

  /** Writes the file and sets its modification time to `fixedTime`. */
  async function writeAt(text: string): Promise<void> {
    await writeFile(file, text);
    await utimes(file, fixedTime, fixedTime);
  }

  /** Rewrites the file in place with text of the same length and the same times: it looks unchanged. */
  async function rewriteUnnoticed(text: string): Promise<void> {
    const before = await stat(file);
    await writeAt(text);
    expect((await stat(file)).ino).toBe(before.ino);
  }

  it('keeps the file\u2019s assertion while the file looks unchanged and its exp is more than a minute away', async () => {
    const source = new ClientAssertionSource({ kind: 'assertion', federatedTokenFile: file });
    await writeAt(assertion(3600, 'aaaa'));
    expect(await source.get()).toBe(assertion(3600, 'aaaa'));
    await rewriteUnnoticed(assertion(3600, 'bbbb'));
    expect(await source.get()).toBe(assertion(3600, 'aaaa'));
    source.discard();
    expect(await source.get()).toBe(assertion(3600, 'bbbb'));
  });

  it('re-reads the file once the kept assertion is within a minute of its exp, even if the file looks unchanged', async () => {
    const source = new ClientAssertionSource({ kind: 'assertion', federatedTokenFile: file });
    await writeAt(assertion(30, 'aaaa'));
    await source.get();
    await rewriteUnnoticed(assertion(30, 'bbbb'));
    expect(await source.get()).toBe(assertion(30, 'bbbb'));
  });

  it('names the file, never its content, when it is missing or empty', async () => {
    const source = new ClientAssertionSource({ kind: 'assertion', federatedTokenFile: file });
    const missing = await failure(source.get());
    expect(missing.code).toBe('ERR_OBO_CLIENT_CREDENTIALS_INVALID');
    expect(missing.message).toBe(`No client assertion: the federated token file ${file} cannot be read (ENOENT).`);
    await writeFile(file, '\n');
    expect((await failure(source.get())).message).toBe(`No client assertion: the federated token file ${file} is empty.`);
  });

  it('calls a callback every time, and says when it failed or returned nothing without echoing its error text', async () => {
    let calls = 0;
    const counting = new ClientAssertionSource({ kind: 'assertion', clientAssertion: () => Promise.resolve(`assertion-${++calls}`) });
    expect([await counting.get(), await counting.get()]).toEqual(['assertion-1', 'assertion-2']);
    const throwing = new ClientAssertionSource({ kind: 'assertion', clientAssertion: () => Promise.reject(new TypeError('secret-looking eyJ text')) });
    const thrown = await failure(throwing.get());
    expect(thrown.message).toBe('No client assertion: the clientAssertion callback failed (TypeError).');
    const empty = new ClientAssertionSource({ kind: 'assertion', clientAssertion: () => Promise.resolve('') });
    expect((await failure(empty.get())).message).toMatch(/returned no assertion/);
  });
});
