import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { OboConfigurationError } from '../../errors/obo.error.js';
import { resolveSessionOptions } from './resolve-session-options.js';
import type { SessionOptions } from './session-options.interface.js';

const HTTPS = new URL('https://app.example.com/signin-oidc');
const HTTP = new URL('http://127.0.0.1:3000/signin-oidc');
const key = () => randomBytes(32).toString('base64');

function failure(options: unknown, redirectUri = HTTPS): OboConfigurationError {
  try {
    resolveSessionOptions(options as SessionOptions, redirectUri);
  } catch (error) {
    expect(error).toBeInstanceOf(OboConfigurationError);
    return error as OboConfigurationError;
  }
  throw new Error('expected an OboConfigurationError');
}

describe('session options', () => {
  it('defaults to memory, 30 minutes idle, 8 hours absolute and a __Host- cookie on an https redirect URI', () => {
    expect(resolveSessionOptions(undefined, HTTPS)).toEqual({
      store: 'memory',
      idleTimeoutSeconds: 1_800,
      absoluteTimeoutSeconds: 28_800,
      cookieName: '__Host-obo-session',
      secure: true,
      appOrigin: 'https://app.example.com',
    });
  });

  it('names the cookie obo-session and leaves it without Secure on an http redirect URI', () => {
    const resolved = resolveSessionOptions({}, HTTP);
    expect(resolved.cookieName).toBe('obo-session');
    expect(resolved.secure).toBe(false);
    expect(resolved.appOrigin).toBe('http://127.0.0.1:3000');
  });

  it('decodes a Redis store with its defaults (prefix nestjs-obo:web:, 500 ms)', () => {
    const first = key();
    const resolved = resolveSessionOptions({ store: { redis: 'redis://127.0.0.1:6379', encryptionKeys: [first, key()] } }, HTTPS);
    expect(resolved.store).toEqual({
      redis: 'redis://127.0.0.1:6379',
      encryptionKeys: [Buffer.from(first, 'base64'), expect.any(Buffer)],
      keyPrefix: 'nestjs-obo:web:',
      operationTimeoutMs: 500,
    });
  });

  it('accepts an ioredis client the app owns', () => {
    const client = new Redis({ lazyConnect: true });
    const resolved = resolveSessionOptions({ store: { redis: client, encryptionKeys: [key()] } }, HTTPS);
    expect(resolved.store !== 'memory' && resolved.store.redis).toBe(client);
    client.disconnect();
  });

  it('keeps a custom cookie name, __Secure- prefixed ones included on https', () => {
    expect(resolveSessionOptions({ cookieName: 'app_session' }, HTTP).cookieName).toBe('app_session');
    expect(resolveSessionOptions({ cookieName: '__Secure-app' }, HTTPS).cookieName).toBe('__Secure-app');
  });

  it.each<[string, unknown, string, RegExp]>([
    ['an idle timeout longer than the absolute one', { idleTimeoutSeconds: 7_200, absoluteTimeoutSeconds: 3_600 }, 'session.idleTimeoutSeconds', /must not exceed session\.absoluteTimeoutSeconds/],
    ['a fractional idle timeout', { idleTimeoutSeconds: 1_800.5 }, 'session.idleTimeoutSeconds', /whole number from 300 to 86400/],
    ['an idle timeout under 5 minutes', { idleTimeoutSeconds: 60 }, 'session.idleTimeoutSeconds', /whole number/],
    ['an absolute timeout over 30 days', { absoluteTimeoutSeconds: 2_592_001 }, 'session.absoluteTimeoutSeconds', /whole number from 300 to 2592000/],
    ['an absolute timeout given as text', { absoluteTimeoutSeconds: '3600' }, 'session.absoluteTimeoutSeconds', /whole number/],
    ['a cookie name with a space', { cookieName: 'my session' }, 'session.cookieName', /cookie name token/],
    ['a cookie name with ;', { cookieName: 'a;b' }, 'session.cookieName', /cookie name token/],
    ['an empty cookie name', { cookieName: '' }, 'session.cookieName', /cookie name token/],
    ['a store that is neither memory nor Redis', { store: 'redis' }, 'session.store', /'memory' or \{ redis, encryptionKeys \}/],
    ['a Redis store without keys', { store: { redis: 'redis://x' } }, 'session.store.encryptionKeys', /is required: sessions are never stored in Redis unencrypted/],
    ['a Redis store with an empty key list', { store: { redis: 'redis://x', encryptionKeys: [] } }, 'session.store.encryptionKeys', /is required/],
    ['a 16-byte key', { store: { redis: 'redis://x', encryptionKeys: [randomBytes(16).toString('base64')] } }, 'session.store.encryptionKeys[0]', /base64 of 32 random bytes/],
    ['an http URL for Redis', { store: { redis: 'http://x', encryptionKeys: [key()] } }, 'session.store.redis', /redis:\/\/ or rediss:\/\/ URL/],
    ['a key prefix with a space', { store: { redis: 'redis://x', encryptionKeys: [key()], keyPrefix: 'a b' } }, 'session.store.keyPrefix', /printable ASCII/],
    ['a 5 ms operation timeout', { store: { redis: 'redis://x', encryptionKeys: [key()], operationTimeoutMs: 5 } }, 'session.store.operationTimeoutMs', /whole number from 10/],
  ])('refuses %s, naming the option and the fix', (_case, options, option, message) => {
    const error = failure(options);
    expect(error.option).toBe(option);
    expect(error.code).toBe('ERR_OBO_CONFIG_INVALID');
    expect(error.message).toMatch(message);
  });

  it.each(['__Host-app', '__Secure-app', '__host-app'])('refuses the browser-enforced prefix of %s on an http redirect URI', (cookieName) => {
    const error = failure({ cookieName }, HTTP);
    expect(error.option).toBe('session.cookieName');
    expect(error.message).toMatch(/use an https redirect URI or a name without "__Host-"/);
  });

  it('never shows a bad encryption key in the message', () => {
    const bad = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
    expect(failure({ store: { redis: 'redis://x', encryptionKeys: [key(), bad] } }).message).not.toContain(bad);
  });
});
