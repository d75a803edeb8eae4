import type { ServerResponse } from 'node:http';
import type { ClientRedirect } from './authorize-request.js';
import { formPostPage, scriptNonce, sendPage } from './sign-in-pages.js';

/**
 * Sends the authorization response to the client's (already checked) redirect URI: `code` or
 * `error`/`error_description`, plus `state`, in the query (default), the fragment, or an
 * auto-submitted form (`form_post`).
 */
export function redirectToClient(res: ServerResponse, target: ClientRedirect, params: Readonly<Record<string, string>>): void {
  const all = { ...params, ...(target.state === undefined ? {} : { state: target.state }) };
  if (target.responseMode === 'form_post') {
    const nonce = scriptNonce();
    return sendPage(res, 200, formPostPage(target.redirectUri, all, nonce), { formTargets: [target.redirectUri], scriptNonce: nonce });
  }
  const url = new URL(target.redirectUri);
  if (target.responseMode === 'fragment') url.hash = new URLSearchParams(all).toString();
  else for (const [name, value] of Object.entries(all)) url.searchParams.append(name, value);
  redirect(res, url.toString());
}

/** A 302 to `location`, never cached. */
export function redirect(res: ServerResponse, location: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(302, { location, 'cache-control': 'no-store', pragma: 'no-cache' }).end();
}

/** The `error_description` of an authorization error response, Entra style. */
export function authorizeErrorParams(error: string, code: number, text: string): Record<string, string> {
  return { error, error_description: `AADSTS${code}: ${text}`, error_uri: `https://login.microsoftonline.com/error?code=${code}` };
}
