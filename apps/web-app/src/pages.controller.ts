import { applyDecorators, Controller, Get, Header } from '@nestjs/common';
import { AuthorizeForScopes, Public, WebAppContext, WebAppDownstreamApi } from 'nestjs-obo';
import { html } from './html.js';
import { facts, page } from './layout.js';

/** What the Downstream API's /api/whoami (and /api/secure-whoami) answers. */
interface WhoAmI {
  objectId: string;
  tenantId: string;
  clientAppId: string | null;
  scopes: string[];
  tokenKind: string;
}

/** What the Original API's /api/profile (and /api/secure-profile) answers. */
interface OriginalProfile {
  caller: { objectId: string; tenantId: string };
  downstream: WhoAmI;
}

const HTML = 'text/html; charset=utf-8';
// `form-action` also governs where a form's redirects may go: sign-out posts here and is sent on to
// the authority's end-session endpoint (https), so 'self' alone would stop it there.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https:; frame-ancestors 'none'";

/** A server-rendered page: HTML, never cached, no script, not framed. */
const HtmlPage = () => applyDecorators(Header('content-type', HTML), Header('cache-control', 'no-store'), Header('content-security-policy', CSP));

/** Server-rendered pages; every value shown is escaped, and no page ever holds a token. */
@Controller()
export class PagesController {
  constructor(
    private readonly apis: WebAppDownstreamApi,
    private readonly context: WebAppContext,
  ) {}

  @Get()
  @Public()
  @HtmlPage()
  home(): string {
    const account = this.context.account;
    const body = account
      ? html`<p id="welcome">Signed in as <strong>${account.username ?? account.name}</strong>.</p>
          <ul><li><a href="/profile">Profile</a>: the Original API calls the Downstream API On-Behalf-Of you; the three hops side by side.</li>
          <li><a href="/reports">Reports</a>: calls the Downstream API for a scope you have not consented to yet (incremental consent).</li>
          <li><a href="/secure">Secure</a>: behind Conditional Access; the Downstream API asks for MFA three hops away.</li></ul>`
      : html`<p id="welcome">You are not signed in.</p><p><a class="button" href="/auth/sign-in?returnUrl=%2Fprofile">Sign in</a> to see your profile.</p>`;
    return page('Home', account, this.context.csrfToken, body);
  }

  /** Browser → web app → Original API → (On-Behalf-Of) → Downstream API: the same user at each hop. */
  @Get('profile')
  @HtmlPage()
  @AuthorizeForScopes()
  async profile(): Promise<string> {
    const profile = await this.apis.get<OriginalProfile>('original', '/api/profile');
    return page('Profile', this.context.account, this.context.csrfToken, this.hops(profile));
  }

  /** The Downstream API called directly for a scope not asked at sign-in: the consent page, once. */
  @Get('reports')
  @HtmlPage()
  @AuthorizeForScopes()
  async reports(): Promise<string> {
    const whoami = await this.apis.get<WhoAmI>('downstream', '/api/whoami');
    const body = html`<p id="reports">The Downstream API, called by this web app with your consent to <code>${whoami.scopes.join(' ')}</code>:</p>
      <div class="hop" id="hop-reports">${facts([['objectId', whoami.objectId], ['client app', whoami.clientAppId], ['scopes', whoami.scopes]])}</div>`;
    return page('Reports', this.context.account, this.context.csrfToken, body);
  }

  /** Behind Conditional Access: the Downstream API's claims challenge travels back here and becomes an MFA step. */
  @Get('secure')
  @HtmlPage()
  @AuthorizeForScopes()
  async secure(): Promise<string> {
    const profile = await this.apis.get<OriginalProfile>('original', '/api/secure-profile');
    return page('Secure', this.context.account, this.context.csrfToken, this.hops(profile));
  }

  private hops(profile: OriginalProfile) {
    const account = this.context.account;
    const same = account?.objectId === profile.caller.objectId && profile.caller.objectId === profile.downstream.objectId;
    return html`<p id="same-user" class="${same ? 'same' : ''}">${same ? 'The same user at all three hops.' : 'The hops disagree about the user.'}</p>
      <div class="hops">
        <section class="hop" id="hop-web-app"><h2>1 · Web app (your session)</h2>${facts([['name', account?.name], ['username', account?.username], ['objectId', account?.objectId], ['tenantId', account?.tenantId]])}</section>
        <section class="hop" id="hop-original"><h2>2 · Original API</h2>${facts([['objectId', profile.caller.objectId], ['tenantId', profile.caller.tenantId]])}</section>
        <section class="hop" id="hop-downstream"><h2>3 · Downstream API (On-Behalf-Of)</h2>${facts([['objectId', profile.downstream.objectId], ['tenantId', profile.downstream.tenantId], ['client app', profile.downstream.clientAppId], ['scopes', profile.downstream.scopes]])}</section>
      </div>`;
  }
}
