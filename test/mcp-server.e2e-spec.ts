// apps/mcp-server as a real process, driven by the MCP SDK's own client and auth helpers (code we
// did not write): RFC 9728 discovery from the 401, audience binding, scopes, tools that reach the
// Downstream API On-Behalf-Of the user and never with the client's token (#142-#144).
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
  UnauthorizedError,
  type OAuthClientProvider,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { OboModule } from 'nestjs-obo';
import { LocalAuthority } from 'nestjs-obo/testing';
import { spawnApp, type RunningApp } from '../apps/demo/src/spawn-app.js';
import { WhoAmIController } from '../apps/downstream-api/src/whoami.controller.js';
import { HttpBrowser } from './support/http-browser.js';
import { jwtPayload } from './support/jwt-payload.js';
import { throughAuthority } from './support/sign-in-steps.js';
import { freePort } from './support/web-app-chain.js';

const root = join(import.meta.dirname, '..');
const entry = join(root, 'dist/apps/mcp-server/src/main.js');
if (!existsSync(entry)) throw new Error('Build first: `npm test` runs `npm run build` before jest.');

/** What the Downstream API's secure route asks of the access token (the authentication context c1). */
const C1_ACCESS_TOKEN_CLAIMS = { acrs: { essential: true, value: 'c1' } };

/** The Downstream API sample in this process, recording the bearer token of every request it gets. */
interface RecordingDownstream {
  url: string;
  readonly tokens: string[];
  readonly app: INestApplication;
  /** Requests still to be answered 500 with a detail nobody else may see, before the sample answers. */
  failures: number;
}

async function startRecordingDownstream(authority: LocalAuthority, clientId: string): Promise<RecordingDownstream> {
  @Module({ imports: [OboModule.forRoot({ instance: authority.instance, tenantId: authority.tenantId, clientId })], controllers: [WhoAmIController] })
  class DownstreamModule {}
  const app = await NestFactory.create(DownstreamModule, { logger: false });
  const tokens: string[] = [];
  const recording: RecordingDownstream = { url: '', tokens, app, failures: 0 };
  app.use((req: { headers: Record<string, string | undefined> }, res: { status(code: number): { json(body: unknown): void } }, next: () => void) => {
    tokens.push((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (recording.failures > 0) {
      recording.failures--;
      return res.status(500).json({ detail: 'downstream stack trace' });
    }
    next();
  });
  await app.listen(0, '127.0.0.1');
  recording.url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return recording;
}

/**
 * Responses the MCP client's transport received, newest last (the SDK's `fetch` option): status and
 * headers, and the body of refusals. Never a tee of a body the SDK reads: it cancels bodies it does
 * not need, and a tee branch's cancel waits for the other branch.
 */
function recordingFetch(responses: Response[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const body = response.ok ? null : await response.clone().text();
    responses.push(new Response(body, { status: response.status, headers: response.headers }));
    return response;
  };
}

/** An MCP client's loopback redirect listener (RFC 8252 §7.3): records the authorization codes it receives. */
async function startRedirectListener(): Promise<{ url: string; codes: string[]; close(): Promise<void> }> {
  const codes: string[] = [];
  const server = createServer((req, res) => {
    const code = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('code');
    if (code) codes.push(code);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    codes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The MCP SDK's OAuth client provider of a pre-registered confidential client, keeping everything in memory. */
class InMemoryOAuthClient implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = '';

  constructor(
    private readonly client: { client_id: string; client_secret: string },
    readonly redirectUrl: string,
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return { redirect_uris: [this.redirectUrl], client_name: 'nestjs-obo e2e MCP client', grant_types: ['authorization_code'], response_types: ['code'] };
  }
  clientInformation(): OAuthClientInformationMixed {
    return this.client;
  }
  tokens(): OAuthTokens | undefined {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    return this.verifier;
  }
}

describe('apps/mcp-server driven by the MCP SDK client', () => {
  let authority: LocalAuthority;
  let downstream: RecordingDownstream;
  let mcp: RunningApp;
  let resource: string;
  const mcpId = randomUUID();
  const downstreamId = randomUUID();
  const mcpClientId = randomUUID(); // the MCP client app the user signs in to
  const secret = randomBytes(24).toString('base64url');
  /** Every token handed to the MCP server by a client in this file. */
  const clientTokens: string[] = [];
  /** The MCP server process's output. */
  const log: string[] = [];

  beforeAll(async () => {
    authority = await LocalAuthority.start({ clientId: mcpId });
    authority.registerApp({ clientId: mcpId, clientSecret: secret, scopes: ['access_as_user'] });
    authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read'] });
    downstream = await startRecordingDownstream(authority, downstreamId);
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    mcp = await spawnApp(
      'mcp-server',
      entry,
      {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        AZURE_AD_INSTANCE: authority.instance,
        AZURE_AD_TENANT_ID: authority.tenantId,
        AZURE_AD_CLIENT_ID: mcpId,
        AZURE_AD_CLIENT_SECRET: secret,
        DOWNSTREAM_API_BASE_URL: downstream.url,
        DOWNSTREAM_API_SCOPES: `api://${downstreamId}/Downstream.Read`,
      },
      30_000,
    );
    mcp.child.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
    mcp.child.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
  }, 60_000);

  afterAll(async () => {
    await mcp?.stop();
    await downstream?.app.close();
    await authority?.close();
  });

  /** A user token for the MCP server (aud = its client id), as the MCP client app got it. */
  function userToken(claims: Record<string, unknown> = {}): string {
    const token = authority.mintUserToken({ audience: mcpId, claims: { azp: mcpClientId, ...claims } });
    clientTokens.push(token);
    return token;
  }

  /** An SDK client connected with `token` as its bearer token (or none); `responses` records what its transport received. */
  async function connect(token: string | undefined, responses: Response[] = []): Promise<Client> {
    const client = new Client({ name: 'nestjs-obo-e2e', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(resource), {
      requestInit: token === undefined ? undefined : { headers: { authorization: `Bearer ${token}` } },
      fetch: recordingFetch(responses),
    });
    await client.connect(transport);
    return client;
  }

  /** The HTTP status the SDK client reports for a refused connect or call. */
  async function refusal(pending: Promise<unknown>): Promise<number> {
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamableHTTPError);
    return (error as StreamableHTTPError).code!;
  }

  function expectNothingPassedThrough(): void {
    expect(downstream.tokens.length).toBeGreaterThan(0);
    for (const token of downstream.tokens) expect(clientTokens).not.toContain(token);
  }

  it('#142 without a token: 401 naming the RFC 9728 metadata, which the SDK follows to the authority and the scope to ask for', async () => {
    const responses: Response[] = [];
    expect(await refusal(connect(undefined, responses))).toBe(401);
    const challenge = responses.at(-1)!;
    expect(challenge.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="http://127.0.0.1:${new URL(resource).port}/.well-known/oauth-protected-resource/mcp"`);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(challenge);
    const metadata = await discoverOAuthProtectedResourceMetadata(resource, { resourceMetadataUrl: resourceMetadataUrl! });
    expect(metadata).toEqual({
      resource,
      authorization_servers: [authority.issuerV2()],
      scopes_supported: [`api://${mcpId}/access_as_user`],
      bearer_methods_supported: ['header'],
      resource_name: 'nestjs-obo sample MCP server',
    });
    // The SDK finds the authority's endpoints from the issuer alone (OpenID discovery) and its PKCE support.
    const server = await discoverAuthorizationServerMetadata(metadata.authorization_servers![0]!);
    expect(server?.token_endpoint).toBe(authority.tokenEndpoint());
    expect(server?.authorization_endpoint).toBe(`${authority.instance}${authority.tenantId}/oauth2/v2.0/authorize`);
    expect(server?.code_challenge_methods_supported).toContain('S256');
    // The same metadata without the challenge: from the resource URL alone.
    expect((await discoverOAuthProtectedResourceMetadata(resource)).resource).toBe(resource);
  });

  it('#142 a real MCP client: the SDK’s auth() goes from the 401 to the authority, the user signs in (code + PKCE, RFC 8707 resource), and its token calls the tools', async () => {
    const listener = await startRedirectListener();
    const clientSecret = randomBytes(24).toString('base64url');
    authority.registerApp({ clientId: mcpClientId, clientSecret, redirectUris: [listener.url], displayName: 'An MCP client' });
    const provider = new InMemoryOAuthClient({ client_id: mcpClientId, client_secret: clientSecret }, listener.url);
    const user = authority.users[0]!;
    try {
      const first = new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider });
      expect(await new Client({ name: 'e2e', version: '1.0.0' }).connect(first).catch((e: unknown) => e)).toBeInstanceOf(UnauthorizedError);
      const authorize = provider.authorizationUrl!;
      expect(`${authorize.origin}${authorize.pathname}`).toBe(`${authority.instance}${authority.tenantId}/oauth2/v2.0/authorize`);
      expect(Object.fromEntries(authorize.searchParams)).toMatchObject({ client_id: mcpClientId, scope: `api://${mcpId}/access_as_user`, resource, code_challenge_method: 'S256', redirect_uri: listener.url });

      const browser = new HttpBrowser();
      const { pages } = await throughAuthority(browser, await browser.navigate(authorize.href), new URL(authority.instance).origin, user);
      expect(pages).toEqual(['sign-in', 'consent']);
      expect(listener.codes).toHaveLength(1);
      await first.finishAuth(listener.codes[0]!);
      const issued = provider.tokens()!.access_token;
      clientTokens.push(issued);
      expect(jwtPayload(issued)).toMatchObject({ aud: mcpId, oid: user.oid, azp: mcpClientId, scp: 'access_as_user' });

      const client = new Client({ name: 'e2e', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider }));
      try {
        const result = (await client.callTool({ name: 'whoami' })) as CallToolResult;
        expect(result.structuredContent).toMatchObject({ caller: { objectId: user.oid, clientAppId: mcpClientId }, downstream: { objectId: user.oid, clientAppId: mcpId } });
        expect(jwtPayload(downstream.tokens.at(-1)!)).toMatchObject({ aud: downstreamId, oid: user.oid, azp: mcpId });
        expectNothingPassedThrough();
      } finally {
        await client.close();
      }
    } finally {
      await listener.close();
    }
  });

  it('#143 lists the tools and calls whoami: the Downstream API sees the same user through a token of its own (aud = Downstream, azp = the MCP server)', async () => {
    const oid = randomUUID();
    const token = userToken({ oid });
    const client = await connect(token);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['read_downstream', 'whoami']);
      const read = tools.find((tool) => tool.name === 'read_downstream')!;
      expect(read.inputSchema.properties).toEqual({ route: expect.objectContaining({ enum: ['whoami', 'secure-whoami'] }) });
      expect(read.annotations).toEqual({ readOnlyHint: true, openWorldHint: false });

      const before = downstream.tokens.length;
      const result = (await client.callTool({ name: 'whoami' })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual({
        caller: { objectId: oid, tenantId: authority.tenantId, clientAppId: mcpClientId },
        downstream: { objectId: oid, subject: expect.any(String), tenantId: authority.tenantId, clientAppId: mcpId, scopes: ['Downstream.Read'], roles: [], tokenKind: 'user' },
      });
      expect(JSON.parse((result.content[0] as { text: string }).text)).toEqual(result.structuredContent);

      expect(downstream.tokens.length).toBe(before + 1);
      const seen = downstream.tokens.at(-1)!;
      expect(seen).not.toBe(token);
      expect(jwtPayload(seen)).toMatchObject({ aud: downstreamId, oid, tid: authority.tenantId, azp: mcpId, scp: 'Downstream.Read' });
      // (`sub` is pairwise per application at Entra ID: the user is oid + tid.)
      expect(authority.tokenRequests.byUser.get(oid)).toBe(1);

      // The second call is served from the MCP server's token cache (one On-Behalf-Of per user and scope).
      const again = (await client.callTool({ name: 'read_downstream', arguments: { route: 'whoami' } })) as CallToolResult;
      expect(again.structuredContent).toMatchObject({ route: 'whoami', downstream: { objectId: oid, clientAppId: mcpId } });
      expect(authority.tokenRequests.byUser.get(oid)).toBe(1);
      expect(downstream.tokens.at(-1)).toBe(seen);
      expectNothingPassedThrough();
    } finally {
      await client.close();
    }
  });

  it('#143 each tool call runs as its own request’s user: concurrent clients of different users never see each other', async () => {
    const users = Array.from({ length: 4 }, () => randomUUID());
    const clients = await Promise.all(users.map((oid) => connect(userToken({ oid }))));
    try {
      const rounds = await Promise.all(
        clients.flatMap((client) => Array.from({ length: 3 }, () => client.callTool({ name: 'whoami' }) as Promise<CallToolResult>)),
      );
      rounds.forEach((result, index) => {
        const oid = users[Math.floor(index / 3)];
        expect(result.structuredContent).toMatchObject({ caller: { objectId: oid }, downstream: { objectId: oid } });
      });
      expectNothingPassedThrough();
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('#143 refuses a token minted for another audience (401 invalid_token): neither the Downstream API’s nor the resource URL', async () => {
    for (const audience of [downstreamId, `api://${downstreamId}`, resource]) {
      const token = authority.mintUserToken({ audience, claims: { azp: mcpClientId, scp: 'access_as_user Downstream.Read' } });
      clientTokens.push(token);
      const responses: Response[] = [];
      const before = downstream.tokens.length;
      expect({ audience, status: await refusal(connect(token, responses)) }).toEqual({ audience, status: 401 });
      const params = extractWWWAuthenticateParams(responses.at(-1)!);
      expect(params.error).toBe('invalid_token');
      expect(params.resourceMetadataUrl?.pathname).toBe('/.well-known/oauth-protected-resource/mcp');
      expect(downstream.tokens.length).toBe(before);
    }
  });

  it('#143 a token without the MCP scope gets 403 insufficient_scope naming the scope to ask for and the metadata', async () => {
    const responses: Response[] = [];
    expect(await refusal(connect(userToken({ scp: 'Files.Read' }), responses))).toBe(403);
    const params = extractWWWAuthenticateParams(responses.at(-1)!);
    expect(params).toEqual({ error: 'insufficient_scope', scope: `api://${mcpId}/access_as_user`, resourceMetadataUrl: new URL(`http://127.0.0.1:${new URL(resource).port}/.well-known/oauth-protected-resource/mcp`) });
    const app = authority.mintAppToken({ audience: mcpId, claims: { roles: ['access_as_application'] } });
    expect(await refusal(connect(app))).toBe(403);
  });

  it('#143 GET and DELETE (no sessions) answer 405 Allow: POST once authenticated; 401 before', async () => {
    const token = userToken();
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(resource, { method, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
      expect({ method, status: res.status, allow: res.headers.get('allow') }).toEqual({ method, status: 405, allow: 'POST' });
      expect((await fetch(resource, { method })).status).toBe(401);
    }
  });

  it('#143 tool arguments are validated against the schema before any downstream call', async () => {
    const client = await connect(userToken());
    try {
      const before = downstream.tokens.length;
      const result = (await client.callTool({ name: 'read_downstream', arguments: { route: '../admin' } })) as CallToolResult;
      expect(result.isError).toBe(true);
      expect((result.content[0] as { text: string }).text).toMatch(/Input validation error: Invalid arguments for tool read_downstream: Invalid option/);
      expect(downstream.tokens.length).toBe(before);
    } finally {
      await client.close();
    }
  });

  describe('#144 what the Downstream API or the authority asks of the user reaches the MCP client as HTTP', () => {
    afterEach(() => {
      authority.clearPolicies();
      authority.clearTokenFaults();
    });

    it('a Conditional Access claims challenge (authentication context c1) is the HTTP answer: 401 insufficient_claims with the claims, the authority and resource_metadata', async () => {
      authority.requireMfaForAuthenticationContext('c1');
      const responses: Response[] = [];
      const client = await connect(userToken({ amr: ['pwd'] }), responses);
      try {
        expect(await refusal(client.callTool({ name: 'read_downstream', arguments: { route: 'secure-whoami' } }))).toBe(401);
        const answer = responses.at(-1)!;
        const challenge = answer.headers.get('www-authenticate') ?? '';
        expect(challenge).toMatch(/^Bearer realm="", authorization_uri="[^"]+", client_id="[^"]+", error="insufficient_claims", claims="[^"]+", resource_metadata="[^"]+"$/);
        expect(challenge).toContain(`authorization_uri="${authority.instance}${authority.tenantId}/oauth2/v2.0/authorize"`);
        expect(challenge).toContain(`client_id="${mcpId}"`);
        const claims = JSON.parse(Buffer.from(/claims="([^"]+)"/.exec(challenge)![1]!, 'base64').toString('utf8')) as Record<string, unknown>;
        expect(claims.access_token).toEqual(C1_ACCESS_TOKEN_CLAIMS);
        expect(extractWWWAuthenticateParams(answer)).toMatchObject({ error: 'insufficient_claims', resourceMetadataUrl: expect.any(URL) });
        expect(await answer.json()).toEqual({ statusCode: 401, code: 'ERR_OBO_CLAIMS_CHALLENGE', message: 'The user must sign in again to satisfy a claims challenge.' });
        // The same client, once the user has met the context (an MFA sign-in), gets through.
      } finally {
        await client.close();
      }
      const mfa = await connect(userToken({ amr: ['pwd', 'mfa'] }));
      try {
        const result = (await mfa.callTool({ name: 'read_downstream', arguments: { route: 'secure-whoami' } })) as CallToolResult;
        expect(result.isError).toBeFalsy();
        expect(result.structuredContent).toMatchObject({ route: 'secure-whoami', downstream: { clientAppId: mcpId } });
        expect(jwtPayload(downstream.tokens.at(-1)!).acrs).toEqual(['c1']);
      } finally {
        await mfa.close();
      }
      expectNothingPassedThrough();
    });

    it('consent missing for the Downstream API is the HTTP answer: 403 insufficient_scope naming the scope', async () => {
      const oid = randomUUID();
      const responses: Response[] = [];
      const client = await connect(userToken({ oid }), responses);
      const fault = authority.injectTokenFault({ kind: 'consent-required' }, { oid, times: 1 });
      try {
        expect(await refusal(client.callTool({ name: 'whoami' }))).toBe(403);
        expect(extractWWWAuthenticateParams(responses.at(-1)!)).toMatchObject({ error: 'insufficient_scope', scope: `api://${downstreamId}/Downstream.Read`, resourceMetadataUrl: expect.any(URL) });
      } finally {
        fault.remove();
        await client.close();
      }
    });

    it('a failure that is not the user’s to fix is a tool error the model can read (HTTP 200), with no provider or downstream text', async () => {
      const oid = randomUUID();
      const client = await connect(userToken({ oid }));
      const fault = authority.injectTokenFault({ kind: 'status', status: 400, body: { error: 'invalid_request', error_description: 'AADSTS9999 secret detail' } }, { oid });
      try {
        const result = (await client.callTool({ name: 'whoami' })) as CallToolResult;
        expect(result.isError).toBe(true);
        const text = (result.content[0] as { text: string }).text;
        expect(text).toBe('The identity provider answered in a way the server could not use.');
        fault.remove();
        downstream.failures = 1;
        const failed = (await client.callTool({ name: 'whoami' })) as CallToolResult;
        expect(failed).toEqual({ content: [{ type: 'text', text: 'The Downstream API failed.' }], isError: true });
      } finally {
        fault.remove();
        downstream.failures = 0;
        await client.close();
      }
    });
  });

  it('#143 the MCP server logged no token of any of the calls above, neither the clients’ nor its own', () => {
    const output = log.join('');
    expect(output).toContain('A tool failed: ERR_OBO_DOWNSTREAM_FAILED');
    for (const token of [...clientTokens, ...downstream.tokens]) expect(output).not.toContain(token.split('.')[2]);
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  });
});
