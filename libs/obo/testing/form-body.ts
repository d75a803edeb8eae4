import type { IncomingMessage } from 'node:http';
import { invalidRequest, TokenEndpointError } from './token-errors.js';

/** Largest token request body the local authority reads (64 KiB); larger ones get 413. */
export const MAX_TOKEN_REQUEST_BYTES = 64 * 1024;

/**
 * Reads an `application/x-www-form-urlencoded` body of at most {@link MAX_TOKEN_REQUEST_BYTES}
 * and returns its fields. A parameter sent twice is refused (RFC 6749 §3.2).
 */
export async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const body = await readCapped(req);
  if (type !== 'application/x-www-form-urlencoded') {
    throw invalidRequest("The request body must be of content type 'application/x-www-form-urlencoded'.", 900144);
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(body)) {
    if (Object.hasOwn(fields, name)) throw invalidRequest(`The parameter '${name}' was sent more than once.`, 90014);
    fields[name] = value;
  }
  return fields;
}

function readCapped(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_TOKEN_REQUEST_BYTES) return void chunks.push(chunk);
      req.off('data', onData); // keep draining (discarding) so the 413 can be written
      req.resume();
      reject(new TokenEndpointError(413, 'invalid_request', 900144, `The request body exceeds ${MAX_TOKEN_REQUEST_BYTES} bytes.`));
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

/** Client id and secret of an `Authorization: Basic` header (RFC 6749 §2.3.1), if present. */
export function basicCredentials(req: IncomingMessage): { clientId: string; clientSecret: string } | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const unescape = (text: string) => decodeURIComponent(text.replaceAll('+', ' '));
  try {
    return { clientId: unescape(decoded.slice(0, colon)), clientSecret: unescape(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** The decoded payload of a compact JWT, without any verification (for matching and counting). */
export function peekClaims(token: string | undefined): Record<string, unknown> | undefined {
  const part = token?.split('.')[1];
  if (!part) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
