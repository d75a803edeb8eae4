// Drives the local authority's pages from an HttpBrowser: whatever page the authority shows
// (sign-in, consent, MFA), answer it as a consenting user would, until the browser leaves it.
import { formsOf, type Hop, type HttpBrowser } from './http-browser.js';

/** What the user does at the authority. */
export interface UserAtAuthority {
  readonly username: string;
  readonly password: string;
  /** Press cancel on a consent page instead of accept. Default false. */
  readonly declineConsent?: boolean;
}

/** The kinds of authority page seen on the way, in order (`sign-in`, `consent`, `mfa`). */
export type AuthorityPage = 'sign-in' | 'consent' | 'mfa' | 'other';

const MAX_PAGES = 6;

/** The page kind, from the local authority's page ids (see libs/obo/testing/sign-in-pages.ts). */
export function pageKind(html: string): AuthorityPage {
  if (/<form id="sign-in-form"/.test(html)) return 'sign-in';
  if (/<form id="consent-form"/.test(html)) return 'consent';
  if (/<form id="mfa-form"/.test(html)) return 'mfa';
  return 'other';
}

const BUTTON: Readonly<Record<Exclude<AuthorityPage, 'other'>, string>> = { 'sign-in': 'sign-in', consent: 'accept', mfa: 'approve' };

/**
 * Follows `hops` (a navigation that may have ended on an authority page) through the authority's
 * pages; returns every hop after them and the kinds of page answered.
 * @throws Error when a page has no form to answer, or more than 6 pages come
 */
export async function throughAuthority(browser: HttpBrowser, hops: Hop[], authorityOrigin: string, user: UserAtAuthority): Promise<{ hops: Hop[]; pages: AuthorityPage[] }> {
  const pages: AuthorityPage[] = [];
  let current = hops;
  for (let i = 0; i < MAX_PAGES; i++) {
    const last = current[current.length - 1]!;
    if (new URL(last.url).origin !== authorityOrigin || last.status !== 200) return { hops: current, pages };
    const kind = pageKind(last.body);
    const form = formsOf(last.body)[0];
    if (!form || kind === 'other') throw new Error(`The authority showed a page with no form to answer (status ${last.status}).`);
    pages.push(kind);
    const button = kind === 'consent' && user.declineConsent ? 'cancel' : BUTTON[kind];
    current = await browser.submit(last.url, form, kind === 'sign-in' ? { username: user.username, password: user.password } : {}, button);
  }
  throw new Error('The authority showed more than 6 pages.');
}
