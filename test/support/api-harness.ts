import type { OboModuleOptions } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { optionsFor, startApi, type ApiUnderTest, type HttpAdapterName } from './api-under-test.js';

/** The authority and the test API of one describe; set once its beforeAll has run. */
export interface Harness {
  authority: LocalAuthority;
  api: ApiUnderTest;
}

/**
 * One local authority and one test API for the enclosing describe, started in beforeAll and
 * closed in afterAll. `overrides` (or a function of the started authority returning them) is
 * applied on top of `optionsFor(authority)`; `prepare` runs on the authority before the API starts;
 * the API runs on `adapter` (default Express).
 */
export function harness(
  overrides: Partial<OboModuleOptions> | ((authority: LocalAuthority) => Partial<OboModuleOptions>) = {},
  prepare: (authority: LocalAuthority) => Promise<void> = async () => undefined,
  adapter: HttpAdapterName = 'express',
): Harness {
  const h = {} as Harness;
  beforeAll(async () => {
    h.authority = await LocalAuthority.start();
    await prepare(h.authority);
    h.api = await startApi(optionsFor(h.authority, typeof overrides === 'function' ? overrides(h.authority) : overrides), {}, adapter);
  });
  afterAll(async () => {
    await h.api?.close();
    await h.authority?.close();
  });
  return h;
}
