import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/*
 * The local authority's HTML pages (server-rendered, no script except the form_post page). Stable
 * hooks for browser tests:
 * - sign-in (h1 "Sign in"): form#sign-in-form, input#username (name=username), input#password
 *   (name=password), button#sign-in; after a wrong password p#error (role=alert).
 * - consent (h1 "Permissions requested"): #app-name, ul#scopes with li.scope[data-scope=<full name>],
 *   button#accept (name=action value=accept), button#cancel (name=action value=cancel).
 * - MFA (h1 "Approve sign-in"): #mfa-user, button#approve.
 * - error (h1 "Sign-in error"): #error-code (AADSTSxxxx), #error-description.
 * - signed out (h1 "You have signed out"): #signed-out.
 * - form_post (h1 "Continue"): form#form-post, submitted by script; button#continue without script.
 * Every interaction form carries hidden `interaction` (the pending request's id), `csrf` and `step`.
 */

/** The hidden fields of an interaction form. */
export interface InteractionFields {
  readonly action: string;
  readonly interaction: string;
  readonly csrf: string;
}

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The sign-in page; `error` after a wrong password, `username` prefilled from `login_hint`. */
export function signInPage(form: InteractionFields, appName: string, username = '', error?: string): string {
  return layout(
    'Sign in',
    `<p>to continue to <strong id="app-name">${escapeHtml(appName)}</strong></p>
${error === undefined ? '' : `<p id="error" role="alert">${escapeHtml(error)}</p>`}
<form id="sign-in-form" method="post" action="${escapeHtml(form.action)}">${hidden(form, 'sign-in')}
<label>Email <input id="username" name="username" type="email" autocomplete="username" value="${escapeHtml(username)}" required></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
<button id="sign-in" type="submit">Sign in</button>
</form>`,
  );
}

/** The consent page listing `scopes` (full names) `appName` asks for. */
export function consentPage(form: InteractionFields, appName: string, username: string, scopes: readonly string[]): string {
  const items = scopes.map((scope) => `<li class="scope" data-scope="${escapeHtml(scope)}">${escapeHtml(scope)}</li>`).join('\n');
  return layout(
    'Permissions requested',
    `<p><strong id="app-name">${escapeHtml(appName)}</strong> wants to act as <span id="consent-user">${escapeHtml(username)}</span> with:</p>
<ul id="scopes">
${items}
</ul>
<form id="consent-form" method="post" action="${escapeHtml(form.action)}">${hidden(form, 'consent')}
<button id="accept" name="action" value="accept" type="submit">Accept</button>
<button id="cancel" name="action" value="cancel" type="submit">Cancel</button>
</form>`,
  );
}

/** The MFA step: one button that stands for the second factor. */
export function mfaPage(form: InteractionFields, username: string): string {
  return layout(
    'Approve sign-in',
    `<p>Approve the sign-in request for <span id="mfa-user">${escapeHtml(username)}</span> on your authenticator.</p>
<form id="mfa-form" method="post" action="${escapeHtml(form.action)}">${hidden(form, 'mfa')}
<button id="approve" type="submit">Approve</button>
</form>`,
  );
}

/** An error shown to the user (never sent to an unchecked redirect URI). */
export function errorPage(code: number, text: string): string {
  return layout('Sign-in error', `<p id="error-code">AADSTS${code}</p>\n<p id="error-description">${escapeHtml(text)}</p>`);
}

/** The page after a sign-out without a registered `post_logout_redirect_uri`. */
export function signedOutPage(): string {
  return layout('You have signed out', '<p id="signed-out">You have signed out of your account. It is a good idea to close all browser windows.</p>');
}

/** The `response_mode=form_post` page: a form to `redirectUri` submitted by a nonce'd script. */
export function formPostPage(redirectUri: string, params: Readonly<Record<string, string>>, scriptNonce: string): string {
  const fields = Object.entries(params)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  return layout(
    'Continue',
    `<form id="form-post" method="post" action="${escapeHtml(redirectUri)}">
${fields}
<noscript><button id="continue" type="submit">Continue</button></noscript>
</form>
<script nonce="${escapeHtml(scriptNonce)}">document.getElementById('form-post').submit();</script>`,
  );
}

/** Headers of every page: no caching, no framing, forms only to the authority and `formTargets`. */
export function sendPage(res: ServerResponse, status: number, html: string, options: { formTargets?: readonly string[]; scriptNonce?: string } = {}): void {
  if (res.headersSent || res.destroyed) return;
  const formAction = ["'self'", ...(options.formTargets ?? []).map(originOf)].join(' ');
  const script = options.scriptNonce === undefined ? '' : `; script-src 'nonce-${options.scriptNonce}'`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'${script}`,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(html);
}

/** A fresh script nonce. */
export function scriptNonce(): string {
  return randomBytes(16).toString('base64url');
}

function hidden(form: InteractionFields, step: string): string {
  return `
<input type="hidden" name="interaction" value="${escapeHtml(form.interaction)}">
<input type="hidden" name="csrf" value="${escapeHtml(form.csrf)}">
<input type="hidden" name="step" value="${step}">`;
}

function originOf(url: string): string {
  return new URL(url).origin;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} - Local authority</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.75rem 0}input{display:block;width:100%;padding:.4rem}button{margin:.75rem .5rem 0 0;padding:.5rem 1rem}#error{color:#a4262c}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}
