// A scripted stand-in for a browser at the local authority's sign-in pages: undici fetch with
// redirect: 'manual', the authority's cookies carried by hand, forms read from the HTML and posted
// with their hidden fields. Enough for protocol tests; the Chromium tests drive the real pages.

/** One answer of the authority as a browser would see it. */
export interface BrowserPage {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  /** `Location` of a redirect, resolved against `url`. */
  readonly location?: string;
  readonly html: string;
  /** Text of the page's `<h1>`, if any. */
  readonly title?: string;
}

/** Follows the authority's pages and keeps its cookies (one origin; `Max-Age=0` deletes). */
export class ScriptedBrowser {
  readonly cookies = new Map<string, string>();

  /** GETs `url` (no redirect followed). */
  get(url: string): Promise<BrowserPage> {
    return this.request(url, { method: 'GET' });
  }

  /** Submits the form `formId` of `page` with its hidden fields plus `fields` (a button's name/value too). */
  submit(page: BrowserPage, formId: string, fields: Record<string, string> = {}): Promise<BrowserPage> {
    const form = new RegExp(`<form id="${formId}"[^>]*action="([^"]*)"[^>]*>([\\s\\S]*?)</form>`).exec(page.html);
    if (!form) throw new Error(`no form #${formId} on the page "${page.title ?? page.status}"`);
    const body = new URLSearchParams();
    for (const [, name, value] of form[2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) body.set(unescape(name!), unescape(value!));
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    const action = new URL(unescape(form[1]!), page.url).toString();
    return this.request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
  }

  private async request(url: string, init: RequestInit): Promise<BrowserPage> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (attributes.some((a) => /^max-age=0$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
    const html = await res.text();
    const location = res.headers.get('location');
    const title = /<h1>([^<]*)<\/h1>/.exec(html)?.[1];
    return {
      url,
      status: res.status,
      headers: res.headers,
      html,
      ...(location === null ? {} : { location: new URL(location, url).toString() }),
      ...(title === undefined ? {} : { title: unescape(title) }),
    };
  }
}

function unescape(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}
