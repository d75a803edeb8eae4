import { webRequestOf } from './web-request.js';

describe('#143 webRequestOf (what the MCP transport and tool handlers see of a request)', () => {
  const incoming = {
    method: 'POST',
    originalUrl: '/mcp?x=1',
    headers: {
      authorization: 'Bearer eyJ.client.token',
      cookie: 'session=abc',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-protocol-version': '2025-11-25',
      'x-forwarded-for': ['10.0.0.1', '10.0.0.2'],
    },
  };

  it('never carries the client’s credentials (Authorization, Cookie, Proxy-Authorization)', () => {
    const request = webRequestOf(incoming);
    expect(request.headers.has('authorization')).toBe(false);
    expect(request.headers.has('cookie')).toBe(false);
    expect(request.headers.has('proxy-authorization')).toBe(false);
    expect([...request.headers.values()].join(' ')).not.toContain('eyJ');
  });

  it('keeps the method, the path and every other header (repeated ones joined)', () => {
    const request = webRequestOf(incoming);
    expect(request.method).toBe('POST');
    expect(new URL(request.url).pathname).toBe('/mcp');
    expect(Object.fromEntries(request.headers)).toEqual({
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-protocol-version': '2025-11-25',
      'x-forwarded-for': '10.0.0.1, 10.0.0.2',
    });
  });
});
