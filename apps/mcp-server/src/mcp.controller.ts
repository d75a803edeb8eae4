import { Controller, Delete, Get, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Request as ExpressRequest, Response as ExpressResponse } from 'express';
import { DownstreamApi, RequestContext, RequiredScopes } from 'nestjs-obo';
import { registerDownstreamTools } from './downstream-tools.js';
import { MCP_PATH, MCP_SCOPE } from './mcp-config.js';
import { PendingChallenge } from './tool-outcome.js';
import { webRequestOf } from './web-request.js';

/**
 * The MCP endpoint (Streamable HTTP, stateless): every request is authenticated by the library's
 * global guard (a token whose audience is this server, with scope `access_as_user`; otherwise 401/403
 * with `resource_metadata`), then served by a fresh `McpServer` and transport, as the SDK's stateless
 * example does. Stateless because every request carries its own token: there is no session whose
 * user could change between requests, and nothing to store or share between instances.
 */
@Controller(MCP_PATH.slice(1))
@RequiredScopes(MCP_SCOPE)
export class McpController {
  constructor(
    private readonly downstream: DownstreamApi,
    private readonly context: RequestContext,
  ) {}

  /**
   * One JSON-RPC message (or batch), answered with JSON (`enableJsonResponse`), so the answer is
   * known before anything is written: a tool that meets an authorization challenge turns the whole
   * request into the library's 401/403 with `WWW-Authenticate` (thrown here, answered by its
   * exception filter), where MCP clients look for it.
   */
  @Post()
  async post(@Req() request: ExpressRequest, @Res() response: ExpressResponse): Promise<void> {
    const pending = new PendingChallenge();
    const server = new McpServer({ name: 'nestjs-obo-sample', version: '1.0.0' });
    registerDownstreamTools(server, { downstream: this.downstream, context: this.context, pending });
    // The SDK's core transport (its Node wrapper writes to the socket itself; this one hands back the Response).
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    try {
      await server.connect(transport);
      // Awaited inside the handler: the tools run in this request's RequestContext (the user).
      const answer = await transport.handleRequest(webRequestOf(request), { parsedBody: request.body });
      if (pending.error) throw pending.error;
      response.status(answer.status);
      answer.headers.forEach((value, name) => response.setHeader(name, value));
      response.send(Buffer.from(await answer.arrayBuffer()));
    } finally {
      await server.close();
    }
  }

  /** No server-initiated stream without sessions: 405, as Streamable HTTP allows (clients then only POST). */
  @Get()
  @HttpCode(405)
  @Header('Allow', 'POST')
  stream(): object {
    return methodNotAllowed();
  }

  /** No session to end. */
  @Delete()
  @HttpCode(405)
  @Header('Allow', 'POST')
  end(): object {
    return methodNotAllowed();
  }
}

function methodNotAllowed(): object {
  return { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server is stateless; POST JSON-RPC messages.' }, id: null };
}
