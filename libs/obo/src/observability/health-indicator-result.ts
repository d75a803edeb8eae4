/**
 * What an nestjs-obo health indicator returns: `{ [key]: { status, ...details } }`, the shape of
 * `@nestjs/terminus`'s `HealthIndicatorResult`, declared here so the library needs nothing from
 * terminus (an optional peer) at run time or in its type declarations. `HealthCheckService.check()`
 * takes it as it is: `down` fails the check (503), `up` passes.
 */
export type OboHealthIndicatorResult<Key extends string = string> = Record<Key, OboHealthDetails>;

/** One indicator's entry: `status` and what it found (never a token, a secret or a URL with a query). */
export interface OboHealthDetails {
  readonly status: 'up' | 'down';
  readonly [detail: string]: unknown;
}

/** `{ [key]: details }`. */
export function healthResult<Key extends string>(key: Key, details: OboHealthDetails): OboHealthIndicatorResult<Key> {
  return { [key]: details } as OboHealthIndicatorResult<Key>;
}
