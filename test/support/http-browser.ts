// A browser without a browser, for protocol tests over HTTP: a cookie jar per origin (the
// `cookie` package's parser; Domain ignored, as every server here is a loopback origin), redirects
// followed by hand so each hop can be inspected, and HTML forms submitted as a browser would.
import { parseSetCookie } from 'cookie';
import { fetch } from 'undici';

/** One response on the way. */
export interface Hop {
  readonly url: string;
  readonly method: string;
  readonly status: number;
  readonly location?: string;
  readonly setCookies: readonly string[];
  readonly headers: Headers;
  readonly body: string;
}

/** A form found in a page: where it posts and its fields (hidden ones included). */
export interface HtmlForm {
  readonly action: string;
  readonly method: string;
  readonly fields: Record<string, string>;
  /** The submit buttons, in order. */
  readonly buttons: ReadonlyArray<{ readonly id?: string; readonly name?: string; readonly value: string }>;
}

const MAX_HOPS = 12;

export class HttpBrowser {
  /** origin -> cookie name -> value. */
  readonly jar = new Map<string, Map<string, string>>();
  /** Every hop, oldest first. */
  readonly history: Hop[] = [];

  /** GET `url` and follow redirects (at most 12); returns every hop of this navigation. */
  async navigate(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Hop[]> {
    const hops: Hop[] = [];
    let next: { url: string; method: string; form?: Record<string, string> } | undefined = { url, method: init.method ?? 'GET', form: init.form };
    for (let i = 0; next && i < MAX_HOPS; i++) {
      const hop = await this.request(next.url, next.method, next.form, i === 0 ? init.headers : undefined);
      hops.push(hop);
      next = hop.location && hop.status >= 300 && hop.status < 400 ? { url: new URL(hop.location, hop.url).href, method: 'GET' } : undefined;
    }
    return hops;
  }

  /** One request, no redirect followed; cookies sent and stored. */
  async request(url: string, method = 'GET', form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Hop> {
    const target = new URL(url);
    const cookies = [...(this.jar.get(target.origin) ?? new Map())].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(target, {
      method,
      redirect: 'manual',
      headers: { ...(cookies ? { cookie: cookies } : {}), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
      body: form ? new URLSearchParams(form).toString() : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) this.store(target.origin, line);
    const hop: Hop = { url: target.href, method, status: response.status, location: response.headers.get('location') ?? undefined, setCookies, headers: response.headers as unknown as Headers, body: await response.text() };
    this.history.push(hop);
    return hop;
  }

  /** The cookie `name` this browser holds for `origin`. */
  cookie(origin: string, name: string): string | undefined {
    return this.jar.get(new URL(origin).origin)?.get(name);
  }

  /** Sets (or with `undefined` deletes) a cookie, as a user or an attacker could. */
  setCookie(origin: string, name: string, value: string | undefined): void {
    const key = new URL(origin).origin;
    const cookies = this.jar.get(key) ?? new Map<string, string>();
    if (value === undefined) cookies.delete(name);
    else cookies.set(name, value);
    this.jar.set(key, cookies);
  }

  /** Submits `form` (found in the page at `pageUrl`) with `values` over its fields, pressing the button with id `buttonId` if given. */
  submit(pageUrl: string, form: HtmlForm, values: Record<string, string> = {}, buttonId?: string): Promise<Hop[]> {
    const button = form.buttons.find((b) => b.id === buttonId);
    const fields = { ...form.fields, ...values, ...(button?.name === undefined ? {} : { [button.name]: button.value }) };
    return this.navigate(new URL(form.action || pageUrl, pageUrl).href, { method: form.method.toUpperCase(), form: fields });
  }

  private store(origin: string, line: string): void {
    const parsed = parseSetCookie(line);
    if (!parsed.name) return;
    const expired = parsed.maxAge !== undefined ? parsed.maxAge <= 0 : parsed.expires !== undefined && parsed.expires.getTime() <= Date.now();
    this.setCookie(origin, parsed.name, expired ? undefined : parsed.value);
  }
}

const attr = (tag: string, name: string) => new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag)?.slice(2).find((v) => v !== undefined);
const unescape = (v: string) => v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The forms of an HTML page (inputs and buttons with a name; the first form first). */
export function formsOf(html: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const [, open, inner] = match;
    const fields: Record<string, string> = {};
    const buttons: { id?: string; name?: string; value: string }[] = [];
    for (const input of inner!.matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(input[0], 'name');
      if (name === undefined) continue;
      const type = (attr(input[0], 'type') ?? 'text').toLowerCase();
      if (type === 'submit') buttons.push({ id: attr(input[0], 'id'), name: unescape(name), value: unescape(attr(input[0], 'value') ?? '') });
      else fields[unescape(name)] = unescape(attr(input[0], 'value') ?? '');
    }
    for (const button of inner!.matchAll(/<button\b[^>]*>/gi)) {
      const name = attr(button[0], 'name');
      buttons.push({ id: attr(button[0], 'id'), name: name === undefined ? undefined : unescape(name), value: unescape(attr(button[0], 'value') ?? '') });
    }
    forms.push({ action: unescape(attr(open!, 'action') ?? ''), method: attr(open!, 'method') ?? 'GET', fields, buttons });
  }
  return forms;
}
