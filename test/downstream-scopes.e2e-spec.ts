// Catalogue #113: scopes the identity provider refuses (invalid_scope) at run time, over real HTTP
// with the local authority (which answers AADSTS70011 for a permission the resource does not expose).
import { Controller, Get } from '@nestjs/common';
import { RequiredScopes, TokenAcquisition } from 'nestjs-obo';
import { CapturingLogger } from './support/capturing-logger.js';
import { expectCleanError } from './support/expect-clean-error.js';
import { send } from './support/http-reply.js';
import { startOboChain, type OboChain } from './support/obo-chain.js';

const probe = { missingScope: '', goodScope: '' };

@Controller('scopes')
class ScopesController {
  constructor(private readonly tokens: TokenAcquisition) {}

  /** OBO for a permission the downstream API does not expose. */
  @Get('missing')
  @RequiredScopes('access_as_user')
  async missing(): Promise<{ ok: boolean }> {
    await this.tokens.getAccessTokenForUser([probe.missingScope]);
    return { ok: true };
  }

  /** OBO for a scope that exists, to show the breaker is per scope set. */
  @Get('good')
  @RequiredScopes('access_as_user')
  async good(): Promise<{ ok: boolean }> {
    await this.tokens.getAccessTokenForUser([probe.goodScope]);
    return { ok: true };
  }
}

describe('#113 invalid_scope at run time', () => {
  let chain: OboChain;
  const capture = new CapturingLogger();

  beforeAll(async () => {
    chain = await startOboChain({ controllers: [ScopesController] });
    chain.original.app.useLogger(capture);
    probe.missingScope = `api://${chain.downstreamId}/Missing.Permission`;
    probe.goodScope = chain.downstreamScope;
  }, 30_000);
  afterAll(() => chain?.close());

  it('answers a generic 500 with one log line naming the scopes and AADSTS70011, is not retried, and sends no more provider requests for that scope set during the breaker', async () => {
    chain.authority.resetCounters();
    capture.clear();
    const first = await send(`${chain.original.url}/scopes/missing`, chain.userToken());
    expectCleanError(first, 500, 'ERR_OBO_INTERNAL', chain.clientSecret, [/Missing\.Permission/, /invalid_scope/]);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1); // not retried
    const lines = capture.entries.filter((e) => e.level === 'error' || e.level === 'warn' || e.level === 'fatal');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.text).toMatch(/ERR_OBO_INVALID_SCOPE: .*"api:\/\/[0-9a-f-]+\/Missing\.Permission" \(invalid_scope, AADSTS70011\)/);
    expect(capture.entries.map((e) => e.text).join('\n')).not.toMatch(/eyJ/);

    capture.clear();
    for (let i = 0; i < 3; i++) {
      const again = await send(`${chain.original.url}/scopes/missing`, chain.userToken());
      expectCleanError(again, 500, 'ERR_OBO_INTERNAL', chain.clientSecret);
    }
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
    const during = capture.entries.filter((e) => e.level === 'error' || e.level === 'warn');
    expect(during).toHaveLength(3); // one per answered request, each saying the provider was not asked
    for (const line of during) expect(line.text).toMatch(/ERR_OBO_INVALID_SCOPE: .*AADSTS70011.*not asked again for \d+ s/);

    // Another scope set of the same API is not affected by the breaker.
    const good = await send(`${chain.original.url}/scopes/good`, chain.userToken());
    expect(good.status).toBe(200);
    expect(chain.authority.tokenRequests.onBehalfOf).toBe(2);
  });

  it('on a cold start, concurrent callers queued behind the first one learn its answer: one provider request for the burst', async () => {
    const cold = await startOboChain({ authority: chain.authority, controllers: [ScopesController] });
    try {
      probe.missingScope = `api://${cold.downstreamId}/Missing.Permission`;
      chain.authority.resetCounters();
      const replies = await Promise.all(Array.from({ length: 5 }, () => send(`${cold.original.url}/scopes/missing`, cold.userToken())));
      expect(replies.map((r) => r.status)).toEqual([500, 500, 500, 500, 500]);
      expect(chain.authority.tokenRequests.onBehalfOf).toBe(1);
    } finally {
      probe.missingScope = `api://${chain.downstreamId}/Missing.Permission`;
      await cold.close();
    }
  });
});
