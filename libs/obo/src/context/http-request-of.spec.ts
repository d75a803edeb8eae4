import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { httpRequestOf, isGraphQL } from './http-request-of.js';

function resolverCall(graphqlContext: unknown): ExecutionContextHost {
  const host = new ExecutionContextHost([undefined, {}, graphqlContext, {}]);
  host.setType('graphql');
  return host;
}

describe('httpRequestOf', () => {
  it('returns the route request of an HTTP context', () => {
    const request = { headers: {} };
    const host = new ExecutionContextHost([request, {}, () => undefined]);
    expect(isGraphQL(host)).toBe(false);
    expect(httpRequestOf(host)).toBe(request);
  });

  it('returns the GraphQL context\u2019s req for a resolver call, not the parent value in the first argument', () => {
    const request = { headers: {} };
    const host = resolverCall({ req: request });
    expect(isGraphQL(host)).toBe(true);
    expect(httpRequestOf(host)).toBe(request);
  });

  it.each([['no context', undefined], ['a context without req', {}], ['a req that is not an object', { req: 'x' }]])(
    'returns undefined for a resolver call with %s, so the guards refuse it',
    (_name, graphqlContext) => {
      expect(httpRequestOf(resolverCall(graphqlContext))).toBeUndefined();
    },
  );
});
