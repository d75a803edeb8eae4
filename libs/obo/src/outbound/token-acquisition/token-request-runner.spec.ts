import { Logger } from '@nestjs/common';
import { OboError } from '../../errors/obo.error.js';
import type { ExchangeRequest } from './token-exchanger.js';
import { refusal, unavailableFailure } from './token-request-failure.js';
import { TokenRequestRunner, type AttemptOutcome, type TokenRequestPlan } from './token-request-runner.js';

const request: ExchangeRequest = { scopes: ['orders:read'], tenantId: 'https://issuer.example/', audience: 'https://orders.example' };
const token = (accessToken: string): AttemptOutcome => ({ token: { accessToken, expiresOn: Date.now() + 3_600_000, scopes: ['orders:read'] } });
const quiet = new Logger('test');
quiet.warn = () => undefined;
quiet.debug = () => undefined;

/** A plan answering from `outcomes` in order, counting attempts. */
function scripted(outcomes: Array<AttemptOutcome | (() => Promise<AttemptOutcome>)>, authority = 'https://issuer.example/'): TokenRequestPlan & { attempts: number } {
  const plan = {
    authority,
    attempts: 0,
    attempt: async () => {
      const next = outcomes[plan.attempts++];
      if (next === undefined) throw new Error('no more outcomes');
      return typeof next === 'function' ? next() : next;
    },
  };
  return plan;
}

function code(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'token',
    (error: unknown) => (error as OboError).code,
  );
}

describe('TokenRequestRunner: the provider-neutral rules every exchanger shares', () => {
  it('retries a retryable failure exactly once', async () => {
    const plan = scripted([{ failure: unavailableFailure('status 503', 5, undefined, true), answered: true }, token('t')]);
    expect(await new TokenRequestRunner(5_000, quiet).run(request, plan)).toMatchObject({ accessToken: 't' });
    const twice = scripted([
      { failure: unavailableFailure('status 503', 5, undefined, true), answered: true },
      { failure: unavailableFailure('status 503', 5, undefined, true), answered: true },
      token('never'),
    ]);
    expect(await code(new TokenRequestRunner(5_000, quiet).run(request, twice))).toBe('ERR_OBO_PROVIDER_UNAVAILABLE');
    expect(twice.attempts).toBe(2);
  });

  it('does not retry a refusal', async () => {
    const plan = scripted([{ failure: refusal(new OboError('ERR_OBO_ASSERTION_REJECTED', 'no')), answered: true }, token('never')]);
    expect(await code(new TokenRequestRunner(5_000, quiet).run(request, plan))).toBe('ERR_OBO_ASSERTION_REJECTED');
    expect(plan.attempts).toBe(1);
  });

  it('a 429 whose Retry-After does not fit the deadline is not retried, and nothing is sent until it passed', async () => {
    const runner = new TokenRequestRunner(5_000, quiet);
    const plan = scripted([{ failure: unavailableFailure('throttled', 60, undefined, true, true), answered: true }, token('never')]);
    expect(await code(runner.run(request, plan))).toBe('ERR_OBO_PROVIDER_UNAVAILABLE');
    const next = scripted([token('never')]);
    expect(await code(runner.run(request, next))).toBe('ERR_OBO_PROVIDER_UNAVAILABLE');
    expect(plan.attempts + next.attempts).toBe(1);
  });

  it('retryNow (a fresh client assertion) is honoured on the first attempt only', async () => {
    const expired = { failure: refusal(new OboError('ERR_OBO_CLIENT_CREDENTIALS_INVALID', 'stale')), answered: true, retryNow: true };
    const plan = scripted([expired, expired, token('never')]);
    expect(await code(new TokenRequestRunner(5_000, quiet).run(request, plan))).toBe('ERR_OBO_CLIENT_CREDENTIALS_INVALID');
    expect(plan.attempts).toBe(2);
  });

  it('invalid_scope opens the breaker for that scope set and target only', async () => {
    const runner = new TokenRequestRunner(5_000, quiet);
    await code(runner.run(request, scripted([{ failure: refusal(new OboError('ERR_OBO_INVALID_SCOPE', 'refused')), answered: true }])));
    const again = scripted([token('never')]);
    expect(await code(runner.run(request, again))).toBe('ERR_OBO_INVALID_SCOPE');
    expect(again.attempts).toBe(0);
    const otherTarget = scripted([token('t')]);
    expect(await code(runner.run({ ...request, audience: 'https://other.example' }, otherTarget))).toBe('token');
  });

  it('the first request to a cold authority runs alone: a concurrent one starts only after it answered', async () => {
    const runner = new TokenRequestRunner(5_000, quiet);
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = scripted([
      async () => {
        order.push('first starts');
        await gate;
        order.push('first answered');
        return token('a');
      },
    ]);
    const second = scripted([
      async () => {
        order.push('second starts');
        return token('b');
      },
    ]);
    const both = Promise.all([runner.run(request, first), runner.run(request, second)]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['first starts']);
    release();
    await both;
    expect(order).toEqual(['first starts', 'first answered', 'second starts']);
  });

  it('when the first request to a cold authority gets no answer, the queued ones fail with it and send nothing', async () => {
    const runner = new TokenRequestRunner(5_000, quiet);
    const first = scripted([{ failure: unavailableFailure('unreachable', 5, undefined, false), answered: false }]);
    const second = scripted([token('never')]);
    const results = await Promise.all([code(runner.run(request, first)), code(runner.run(request, second))]);
    expect(results).toEqual(['ERR_OBO_PROVIDER_UNAVAILABLE', 'ERR_OBO_PROVIDER_UNAVAILABLE']);
    expect(second.attempts).toBe(0);
  });
});
