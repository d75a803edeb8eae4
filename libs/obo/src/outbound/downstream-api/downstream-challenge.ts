import { readStepUpParams } from '../../errors/step-up-params.js';

/** What a downstream API's 401 challenge asks for. */
export type DownstreamChallenge =
  /** CAE or Conditional Access: get a token satisfying `claims` (JSON text). */
  | { readonly kind: 'claims'; readonly claims: string }
  /**
   * RFC 9470 step-up (`error="insufficient_user_authentication"`): the user must authenticate again;
   * a refreshed token would carry the same authentication, so none is asked for. Only well-formed
   * `acr_values` / `max_age` are kept.
   */
  | { readonly kind: 'step-up'; readonly acrValues?: string; readonly maxAge?: number }
  /** A plain 401: the token was refused; one refresh may help. */
  | { readonly kind: 'plain' }
  /** Malformed or oversized: nothing of it is used or reflected. */
  | { readonly kind: 'hostile' };

const MAX_HEADER = 8192;
const MAX_CLAIMS = 4096;
const PARAM = /([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeClaims(value: string): string | undefined {
  if (value.length > MAX_CLAIMS || value.length % 4 !== 0 || !BASE64.test(value)) return undefined;
  try {
    const text = utf8.decode(Buffer.from(value, 'base64'));
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? text : undefined;
  } catch {
    return undefined; // not UTF-8 JSON: treated as hostile by the caller
  }
}

/**
 * Reads a downstream `WWW-Authenticate` value. Microsoft's claims challenge
 * (`error="insufficient_claims", claims="<base64 JSON object>"`, each parameter once) and RFC 9470's
 * step-up (`error="insufficient_user_authentication"`, `acr_values` and `max_age` at most once each)
 * are acted on; everything else is a plain refusal or, when malformed, hostile.
 */
export function readDownstreamChallenge(header: string | null): DownstreamChallenge {
  if (!header) return { kind: 'plain' };
  if (header.length > MAX_HEADER) return { kind: 'hostile' };
  const params = new Map<string, string[]>();
  for (const match of header.matchAll(PARAM)) {
    const name = match[1]!.toLowerCase();
    params.set(name, [...(params.get(name) ?? []), match[2] ?? match[3] ?? '']);
  }
  const errors = params.get('error') ?? [];
  if (errors.includes('insufficient_user_authentication')) {
    const acr = params.get('acr_values') ?? [];
    const age = params.get('max_age') ?? [];
    if (errors.length !== 1 || acr.length > 1 || age.length > 1) return { kind: 'hostile' };
    return { kind: 'step-up', ...readStepUpParams(acr[0], age[0]) };
  }
  if (!errors.includes('insufficient_claims')) return { kind: 'plain' };
  const claims = params.get('claims') ?? [];
  if (errors.length !== 1 || claims.length !== 1) return { kind: 'hostile' };
  const decoded = decodeClaims(claims[0]!);
  return decoded === undefined ? { kind: 'hostile' } : { kind: 'claims', claims: decoded };
}
