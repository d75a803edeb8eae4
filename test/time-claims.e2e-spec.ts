// Catalogue section 4.4 (#42-#48): exp, nbf and iat, the clock tolerance boundaries and the
// token lifetime cap, end to end over real HTTP against the local authority (real RS256 keys).
import { harness } from './support/api-harness.js';
import { nowSeconds, startOfSecond } from './support/clock.js';
import { expectRejection, get } from './support/expect-rejection.js';

const HOUR = 3600;
/** `now + 5 s` / `now - 5 s` / `now`, for test names. */
const at = (offset: number) => (offset === 0 ? 'now' : `now ${offset > 0 ? '+' : '-'} ${Math.abs(offset)} s`);

describe.each<[string, number | undefined, number]>([
  ['the default clock tolerance (60 s)', undefined, 60],
  ['clockToleranceSeconds 30', 30, 30],
  ['clockToleranceSeconds 0', 0, 0],
])('#42/#43/#46/#47 time boundaries with %s', (_label, configured, tol) => {
  const h = harness(configured === undefined ? {} : { clockToleranceSeconds: configured });
  const mint = (claims: Record<string, unknown>) => h.authority.mintUserToken({ claims });

  it(`#42 answers 401 "The access token has expired." when exp = ${at(-(tol + 1))} (one second past the tolerance)`, async () => {
    const now = nowSeconds();
    const body = expectRejection(await get(`${h.api.url}/delegated`, mint({ iat: now - HOUR, nbf: now - HOUR, exp: now - (tol + 1) })), 'H401-expired');
    expect(body.message).not.toMatch(/\d/); // no timestamp in the answer
  });

  it('#42 answers 401 expired for a token that expired a day ago', async () => {
    const now = nowSeconds();
    expectRejection(await get(`${h.api.url}/delegated`, mint({ iat: now - 2 * 86_400, nbf: now - 2 * 86_400, exp: now - 86_400 })), 'H401-expired');
  });

  it(`#43 answers 200 when exp = ${at(-(tol - 1))} (one second inside the tolerance)`, async () => {
    const now = await startOfSecond();
    const res = await get(`${h.api.url}/delegated`, mint({ iat: now - HOUR, nbf: now - HOUR, exp: now - (tol - 1) }));
    expect(res.status).toBe(200);
  });

  it(`#46 answers 401 invalid_token when nbf = ${at(tol + 1)} (one second past the tolerance)`, async () => {
    const now = await startOfSecond();
    expectRejection(await get(`${h.api.url}/delegated`, mint({ iat: now, nbf: now + tol + 1, exp: now + HOUR })), 'H401');
  });

  it(`#46 answers 200 when nbf = ${at(tol - 5)} (inside the tolerance)`, async () => {
    const now = await startOfSecond();
    expect((await get(`${h.api.url}/delegated`, mint({ iat: now - 10, nbf: now + tol - 5, exp: now + HOUR }))).status).toBe(200);
  });

  it(`#47 answers 401 invalid_token when iat = ${at(tol + 1)} (one second past the tolerance)`, async () => {
    const now = await startOfSecond();
    expectRejection(await get(`${h.api.url}/delegated`, mint({ iat: now + tol + 1, nbf: now, exp: now + HOUR })), 'H401');
  });

  it(`#47 answers 200 when iat = ${at(tol - 5)} (inside the tolerance)`, async () => {
    const now = await startOfSecond();
    expect((await get(`${h.api.url}/delegated`, mint({ iat: now + tol - 5, nbf: now - 10, exp: now + HOUR }))).status).toBe(200);
  });
});

describe('#44/#45/#47/#48 required and well-typed time claims (default tolerance)', () => {
  const h = harness();

  it('accepts a token with integer iat, nbf and exp (control)', async () => {
    expect((await get(`${h.api.url}/delegated`, h.authority.mintUserToken())).status).toBe(200);
  });

  it('#44 answers 401 invalid_token when exp is missing', async () => {
    expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ claims: { exp: undefined } })), 'H401');
  });

  it.each<[string, (now: number) => unknown]>([
    ['a numeric string "1999999999"', () => '1999999999'],
    ['a numeric string of a valid time', (now) => String(now + HOUR)],
    ['a float (now + 3600.5)', (now) => now + HOUR + 0.5],
    ['1e20', () => 1e20],
    ['a float in the past (now - 100.5)', (now) => now - 100.5],
    ['negative (-1)', () => -1],
    ['zero', () => 0],
    ['null', () => null],
    ['true', () => true],
    ['an array [now + 3600]', (now) => [now + HOUR]],
    ['an object', (now) => ({ value: now + HOUR })],
  ])('#45 answers 401 invalid_token when exp is %s', async (_label, exp) => {
    const token = h.authority.mintUserToken({ claims: { exp: exp(nowSeconds()) } });
    expectRejection(await get(`${h.api.url}/delegated`, token), 'H401');
  });

  it('#47 answers 401 invalid_token when iat is one day in the future (exp and nbf valid)', async () => {
    const now = nowSeconds();
    expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ claims: { iat: now + 86_400, nbf: now, exp: now + HOUR } })), 'H401');
  });

  it.each<[string, Record<string, unknown>]>([
    ['iat is missing', { iat: undefined }],
    ['nbf is missing', { nbf: undefined }],
    ['iat and nbf are missing', { iat: undefined, nbf: undefined }],
  ])('#48 answers 401 invalid_token when %s', async (_label, claims) => {
    expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ claims })), 'H401');
  });

  it.each<[string, string, (now: number) => unknown]>([
    ['iat', 'a numeric string', (now) => String(now)],
    ['iat', 'a float', (now) => now + 0.5],
    ['iat', 'negative', () => -1],
    ['iat', 'null', () => null],
    ['nbf', 'a numeric string', (now) => String(now)],
    ['nbf', 'a float', (now) => now - 0.5],
    ['nbf', 'negative', () => -1],
    ['nbf', 'null', () => null],
  ])('#48 answers 401 invalid_token when %s is %s', async (claim, _label, value) => {
    expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ claims: { [claim]: value(nowSeconds()) } })), 'H401');
  });
});

describe.each<[string, number | undefined, number]>([
  ['the default maxTokenLifetimeSeconds (108000 s, 30 h)', undefined, 108_000],
  ['maxTokenLifetimeSeconds 3600', 3_600, 3_600],
])('#45 token lifetime (exp - iat) capped by %s', (_label, configured, max) => {
  const h = harness(configured === undefined ? {} : { maxTokenLifetimeSeconds: configured });

  it(`answers 200 for a lifetime of exactly ${max} s`, async () => {
    expect((await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ lifetimeSeconds: max }))).status).toBe(200);
  });

  it(`answers 401 invalid_token for a lifetime of ${max + 1} s`, async () => {
    expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ lifetimeSeconds: max + 1 })), 'H401');
  });

  it('answers 401 invalid_token for a ten-year lifetime', async () => {
    expectRejection(await get(`${h.api.url}/delegated`, h.authority.mintUserToken({ lifetimeSeconds: 10 * 365 * 86_400 })), 'H401');
  });
});
