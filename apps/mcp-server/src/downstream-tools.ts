import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { DownstreamApi, Principal, RequestContext } from 'nestjs-obo';
import { z } from 'zod';
import { DOWNSTREAM } from './mcp-config.js';
import { runTool, type PendingChallenge } from './tool-outcome.js';

/** What the Downstream API's whoami routes answer, checked before it reaches the client. */
const DownstreamView = z.object({
  objectId: z.string(),
  subject: z.string(),
  tenantId: z.string(),
  clientAppId: z.string().nullable().describe('The app that called the Downstream API: this MCP server, acting for the user.'),
  scopes: z.array(z.string()),
  roles: z.array(z.string()),
  tokenKind: z.enum(['user', 'app']),
});

/** The user as this MCP server saw them, from the validated token. */
const Caller = z.object({
  objectId: z.string(),
  tenantId: z.string(),
  clientAppId: z.string().nullable().describe('The MCP client the user signed in to.'),
});

/** Downstream routes a tool may read: a closed list, so no argument ever becomes a URL path. */
const ROUTES = { whoami: '/api/whoami', 'secure-whoami': '/api/secure-whoami' } as const;

/** What the tools need, for one MCP request. */
export interface ToolDependencies {
  readonly downstream: DownstreamApi;
  readonly context: RequestContext;
  readonly pending: PendingChallenge;
}

/**
 * Registers the sample's tools. Each calls the Downstream API through `DownstreamApi`, which gets a
 * token for the Downstream API On-Behalf-Of the current user (`RequestContext`, filled by the
 * guard); the MCP client's own token is never sent anywhere.
 */
export function registerDownstreamTools(server: McpServer, tools: ToolDependencies): void {
  server.registerTool(
    'whoami',
    {
      title: 'Who am I',
      description: 'The signed-in user as this server sees them, and as the Downstream API sees them when called On-Behalf-Of the user.',
      outputSchema: { caller: Caller, downstream: DownstreamView },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      runTool(tools.pending, async () => {
        const user = currentUser(tools.context);
        const downstream = DownstreamView.parse(await tools.downstream.get<unknown>(DOWNSTREAM, ROUTES.whoami));
        return structured({ caller: { objectId: user.objectId, tenantId: user.tenantId, clientAppId: user.clientAppId ?? null }, downstream });
      }),
  );

  server.registerTool(
    'read_downstream',
    {
      title: 'Read a Downstream API route',
      description:
        'Reads one Downstream API route for the signed-in user. "secure-whoami" is behind an authentication context (c1): ' +
        'when the user has not met it, the request is answered 401 with a claims challenge for the user to sign in again.',
      inputSchema: { route: z.enum(['whoami', 'secure-whoami']).describe('The Downstream API route to read.') },
      outputSchema: { route: z.enum(['whoami', 'secure-whoami']), downstream: DownstreamView },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ route }) =>
      runTool(tools.pending, async () => {
        currentUser(tools.context);
        const downstream = DownstreamView.parse(await tools.downstream.get<unknown>(DOWNSTREAM, ROUTES[route]));
        return structured({ route, downstream });
      }),
  );
}

/** The guard's principal; the tools only run behind it. */
function currentUser(context: RequestContext): Principal {
  const principal = context.principal;
  if (!principal) throw new Error('No authenticated user in the request context.');
  return principal;
}

/** The result as structured content, and as JSON text for clients that read only text. */
function structured(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}
