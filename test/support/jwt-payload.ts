/** The decoded payload (claims) of a compact JWT, not verified; throws when it is not base64url JSON. */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
