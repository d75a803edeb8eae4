import { Logger } from '@nestjs/common';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ClaimsChallengeError, OboError, ScopedOboError, StepUpRequiredError } from 'nestjs-obo';

/**
 * The failures only the user can fix by authorizing again: a claims challenge (Conditional Access,
 * CAE), step-up (RFC 9470), consent, a refused or too deeply delegated assertion. The MCP
 * authorization specification carries these at the HTTP level (401/403 with `WWW-Authenticate`,
 * where MCP clients look for them), not inside a tool result the model reads.
 */
export function isAuthorizationChallenge(error: unknown): error is OboError {
  if (error instanceof ClaimsChallengeError || error instanceof StepUpRequiredError || error instanceof ScopedOboError) return true;
  return error instanceof OboError && (error.code === 'ERR_OBO_ASSERTION_REJECTED' || error.code === 'ERR_OBO_DELEGATION_TOO_DEEP');
}

/**
 * One MCP request's challenge: a tool that meets one records it here, and the controller answers
 * the whole HTTP request with it (through the library's exception filter) instead of the tool result.
 */
export class PendingChallenge {
  private first: OboError | undefined;

  /** Keeps the first challenge of the request (a batch may meet several; one sign-in answers them). */
  record(error: OboError): void {
    this.first ??= error;
  }

  /** The recorded challenge, if any. */
  get error(): OboError | undefined {
    return this.first;
  }
}

/** What the model reads for failures that are not the user's to fix: no downstream or provider text. */
const TOOL_FAILURES: Partial<Record<string, string>> = {
  ERR_OBO_PROVIDER_UNAVAILABLE: 'The identity provider is unavailable; retry later.',
  ERR_OBO_PROVIDER_TIMEOUT: 'The identity provider did not answer in time; retry later.',
  ERR_OBO_DOWNSTREAM_TIMEOUT: 'The Downstream API did not answer in time; retry later.',
  ERR_OBO_DOWNSTREAM_FAILED: 'The Downstream API failed.',
  ERR_OBO_PROVIDER_BAD_RESPONSE: 'The identity provider answered in a way the server could not use.',
};

const logger = new Logger('McpTools');

/**
 * Runs a tool's work: its result, or for a failure a tool error (`isError: true`, a generic text the
 * model may act on, e.g. retry). An authorization challenge is recorded in `pending` for the HTTP
 * answer; the tool result then only says so (the client never sees it: the request is answered 401/403).
 */
export async function runTool(pending: PendingChallenge, work: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await work();
  } catch (error) {
    if (isAuthorizationChallenge(error)) {
      pending.record(error);
      return toolError('The user must authorize again; the HTTP response carries the challenge.');
    }
    const code = error instanceof OboError ? error.code : 'unexpected';
    // One line per failure, where it is handled: the code (never a token or a downstream body).
    logger.warn(`A tool failed: ${code}${error instanceof OboError ? '' : ` (${error instanceof Error ? error.name : typeof error})`}`);
    return toolError(TOOL_FAILURES[code] ?? 'The tool could not complete the request.');
  }
}

function toolError(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
