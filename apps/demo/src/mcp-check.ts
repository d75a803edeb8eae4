// Step 8 of the walkthrough: the sample MCP server, reached the way an MCP client does it, with the
// MCP SDK's own client: the 401 names the protected-resource metadata, which names the authority and
// the scope; with a token from that authority the client lists the tools and calls whoami.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** What the MCP client learnt and got, for the walkthrough to print and check. */
export interface McpCheck {
  /** The status of the first request, made without a token. */
  readonly unauthenticatedStatus: number;
  /** The RFC 9728 document's `authorization_servers` and `scopes_supported`, found through the challenge. */
  readonly authorizationServers: readonly string[];
  readonly scopesSupported: readonly string[];
  readonly tools: readonly string[];
  /** The whoami tool's structured result. */
  readonly whoami: Record<string, unknown> | undefined;
}

/** Connects to the MCP endpoint without a token, follows the challenge to the metadata, then connects with `userToken` and calls whoami. */
export async function checkMcpServer(endpoint: string, userToken: string): Promise<McpCheck> {
  const url = new URL(endpoint);
  const refused = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
    signal: AbortSignal.timeout(10_000),
  });
  await refused.body?.cancel();
  const { resourceMetadataUrl } = extractWWWAuthenticateParams(refused);
  const metadata = await discoverOAuthProtectedResourceMetadata(url, resourceMetadataUrl ? { resourceMetadataUrl } : undefined);
  const client = new Client({ name: 'nestjs-obo demo', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${userToken}` } } }));
  try {
    const { tools } = await client.listTools();
    const result = (await client.callTool({ name: 'whoami' })) as CallToolResult;
    return {
      unauthenticatedStatus: refused.status,
      authorizationServers: metadata.authorization_servers ?? [],
      scopesSupported: metadata.scopes_supported ?? [],
      tools: tools.map((tool) => tool.name),
      whoami: result.isError ? undefined : result.structuredContent,
    };
  } finally {
    await client.close();
  }
}
