import type { AbstractHttpAdapter } from '@nestjs/core';
import { AuthorizationServerUnknownError, type ProtectedResourceMetadata } from './protected-resource-metadata.service.js';

/** Clients may cache the document; an hour is what the MCP ecosystem's servers use. */
const CACHE_CONTROL = 'public, max-age=3600';

/**
 * Serves `GET` (and `HEAD`) at each of `paths` with the RFC 9728 document (RFC 9728 §3.2: 200, `application/json`),
 * on the HTTP adapter itself, so the app's global prefix, guards and versioning never move or hide it.
 * Any origin may read it (it is public). While the authority's issuer is unknown: 503 with `Retry-After`.
 */
export function serveProtectedResourceMetadata(adapter: AbstractHttpAdapter, paths: readonly string[], metadata: ProtectedResourceMetadata): void {
  const handler = async (_request: unknown, response: unknown): Promise<void> => {
    adapter.setHeader(response, 'Access-Control-Allow-Origin', '*');
    try {
      const document = await metadata.metadata();
      adapter.setHeader(response, 'Cache-Control', CACHE_CONTROL);
      adapter.reply(response, document, 200);
    } catch (error) {
      if (!(error instanceof AuthorizationServerUnknownError)) throw error;
      adapter.setHeader(response, 'Cache-Control', 'no-store');
      adapter.setHeader(response, 'Retry-After', '5');
      adapter.reply(response, { error: 'temporarily_unavailable' }, 503);
    }
  };
  for (const path of paths) adapter.get(path, handler);
}
