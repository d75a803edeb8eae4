import type { SignedInAccount } from 'nestjs-obo';
import { html, type SafeHtml } from './html.js';

/** The page frame: a header with the user and sign-in / sign-out, then `body`. */
export function page(title: string, account: SignedInAccount | undefined, csrfToken: string | undefined, body: SafeHtml): string {
  const user = account
    ? html`<span id="user">${account.name ?? account.username ?? 'Signed in'}</span>
        <form method="post" action="/auth/sign-out" class="inline"><input type="hidden" name="_csrf" value="${csrfToken ?? ''}"><button id="sign-out" type="submit">Sign out</button></form>`
    : html`<a id="sign-in" href="/auth/sign-in?returnUrl=%2F">Sign in</a>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} · nestjs-obo web app</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}
header{display:flex;gap:1.2em;align-items:center;padding:.8em 1.5em;background:#243a5e;color:#fff}
header a{color:#fff} header .who{margin-left:auto;display:flex;gap:.8em;align-items:center}
main{padding:1.5em;max-width:72em} .inline{display:inline}
.hops{display:grid;grid-template-columns:repeat(3,1fr);gap:1em}
.hop{background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:1em}
.hop h2{font-size:1.05em;margin:.1em 0 .6em} dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:.2em .8em}
dt{color:#555} dd{margin:0;font-family:ui-monospace,monospace;font-size:.85em;word-break:break-all}
.same{color:#0a7a2f;font-weight:600}
</style></head>
<body><header><strong>nestjs-obo web app</strong><a href="/">Home</a><a id="nav-profile" href="/profile">Profile</a><a id="nav-reports" href="/reports">Reports</a><a id="nav-secure" href="/secure">Secure</a><span class="who">${user}</span></header>
<main><h1>${title}</h1>${body}</main></body></html>`.text;
}

/** A definition list of `[term, value]` pairs. */
export function facts(rows: ReadonlyArray<readonly [string, unknown]>): SafeHtml {
  return html`<dl>${rows.map(([term, value]) => html`<dt>${term}</dt><dd>${Array.isArray(value) ? value.join(' ') : (value ?? '—')}</dd>`)}</dl>`;
}
