import type { ServerResponse } from 'node:http';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `value` safe inside HTML text and quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * Answers with a small HTML page: a title, one sentence and a link home. Never cached, never framed,
 * no script. The sentence is ours, never the authority's or the request's text.
 */
export function sendErrorPage(res: ServerResponse, status: number, title: string, sentence: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(sentence)}</p><p><a href="/">Home</a></p></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    ...headers,
  });
  res.end(body);
}

/** A 302 to `location`, never cached. */
export function sendRedirect(res: ServerResponse, location: string, status: 302 | 303 = 302): void {
  res.writeHead(status, { location, 'cache-control': 'no-store' });
  res.end();
}
