// Step 7 of the walkthrough: the sample web app, signed into the way a browser would (redirects
// followed by hand, the authority's cookie carried, its sign-in and consent forms posted), so the
// demo proves the browser -> web app -> Original API -> Downstream API chain before printing its URL.
import { Agent, fetch } from 'undici';

/** One browser's cookies, per origin. */
type Jar = Map<string, Map<string, string>>;

interface Page {
  readonly url: string;
  readonly status: number;
  readonly html: string;
}

const MAX_HOPS = 12;

async function navigate(jar: Jar, agent: Agent, url: string, form?: Record<string, string>): Promise<Page> {
  let next: { url: string; form?: Record<string, string> } | undefined = { url, form };
  for (let hop = 0; hop < MAX_HOPS && next; hop++) {
    const target: URL = new URL(next.url);
    const cookies = [...(jar.get(target.origin) ?? [])].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(target, {
      method: next.form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { ...(cookies ? { cookie: cookies } : {}), ...(next.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: next.form ? new URLSearchParams(next.form).toString() : undefined,
      signal: AbortSignal.timeout(10_000),
      dispatcher: agent,
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const origin = jar.get(target.origin) ?? new Map<string, string>();
      if (/max-age=0/i.test(line)) origin.delete(pair.slice(0, eq));
      else origin.set(pair.slice(0, eq), pair.slice(eq + 1));
      jar.set(target.origin, origin);
    }
    const location = response.headers.get('location');
    const html = await response.text();
    if (response.status < 300 || response.status >= 400 || !location) return { url: target.href, status: response.status, html };
    next = { url: new URL(location, target).href };
  }
  throw new Error('demo self-check failed: too many redirects');
}

/** Posts the page's form `formId` (its hidden fields plus `fields`). */
function submit(jar: Jar, agent: Agent, page: Page, formId: string, fields: Record<string, string>): Promise<Page> {
  const form = new RegExp(`<form id="${formId}"[^>]*action="([^"]*)"[^>]*>([\\s\\S]*?)</form>`).exec(page.html);
  if (!form) throw new Error(`demo self-check failed: no ${formId} on the authority's page`);
  const values: Record<string, string> = {};
  for (const [, name, value] of form[2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) values[name!] = value!.replace(/&amp;/g, '&');
  return navigate(jar, agent, new URL(form[1]!.replace(/&amp;/g, '&'), page.url).href, { ...values, ...fields });
}

/**
 * Signs `username` in to the web app at `webAppUrl` through the authority's pages (consenting when
 * asked) and returns the profile page, trusting the authority's certificate `authorityCa` (PEM).
 * Throws when any step does not go as a browser's would.
 */
export async function signInToWebApp(webAppUrl: string, username: string, password: string, authorityCa: string): Promise<Page> {
  const jar: Jar = new Map();
  const agent = new Agent({ connect: { ca: authorityCa } });
  try {
    return await signIn(jar, agent, webAppUrl, username, password);
  } finally {
    await agent.close();
  }
}

async function signIn(jar: Jar, agent: Agent, webAppUrl: string, username: string, password: string): Promise<Page> {
  let page = await navigate(jar, agent, `${webAppUrl}/profile`);
  if (!page.html.includes('id="sign-in-form"')) throw new Error('demo self-check failed: the web app did not send the browser to the sign-in page');
  page = await submit(jar, agent, page, 'sign-in-form', { username, password });
  if (page.html.includes('id="consent-form"')) page = await submit(jar, agent, page, 'consent-form', { action: 'accept' });
  return page;
}
