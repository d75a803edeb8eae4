// #140: a web API's step-up demand (RFC 9470, or Entra's authentication-context claims challenge)
// travels back to the browser through the web app's @AuthorizeForScopes(), is resolved at the
// authority (msal-node builds the request; the local authority asks for MFA or a fresh sign-in), and
// the page renders with the stronger token.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module } from '@nestjs/common';
import { AuthorizeForScopes, OboModule, RequiredAuthentication, RequiredScopes, WebAppDownstreamApi } from 'nestjs-obo';
import { listen, type ApiUnderTest } from './support/api-under-test.js';
import { HttpBrowser } from './support/http-browser.js';
import { throughAuthority } from './support/sign-in-steps.js';
import { startWebAppChain, type WebAppChain } from './support/web-app-chain.js';

const ADELE = { username: 'adele@contoso.test', password: 'Passw0rd!' };

/** An Original-API route that demands the authentication context c1 (the tenant maps it to MFA). */
@Controller('api')
class ApprovalsController {
  @Get('approvals')
  @RequiredScopes('access_as_user')
  @RequiredAuthentication({ acrValues: ['c1'] })
  approvals(): object {
    return { approvals: ['PO-1'] };
  }
}

@Controller()
class StepUpPagesController {
  constructor(private readonly apis: WebAppDownstreamApi) {}

  @Get('approvals')
  @AuthorizeForScopes()
  async approvals(): Promise<string> {
    const { approvals } = await this.apis.get<{ approvals: string[] }>('approvals', '/api/approvals');
    return `<p id="approvals">${approvals.join(',')}</p>`;
  }

  @Get('payments')
  @AuthorizeForScopes()
  async payments(): Promise<string> {
    const { paid } = await this.apis.get<{ paid: boolean }>('payments', '/pay');
    return `<p id="payments">${String(paid)}</p>`;
  }
}

/**
 * A web API answering RFC 9470's challenge (`acr_values`, `max_age=0`) to the first token it sees and
 * accepting any later, different token: the web app must come back with a token from a new sign-in.
 */
async function startStepUpApi(): Promise<{ url: string; tokens: string[]; server: Server }> {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    tokens.push(token);
    if (token === tokens[0]) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="insufficient_user_authentication", error_description="A fresh sign-in is required", acr_values="urn:example:acr:mfa", max_age="0"' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ paid: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokens, server };
}

let web: WebAppChain;
let approvalsApi: ApiUnderTest | undefined;
let paymentsApi: Awaited<ReturnType<typeof startStepUpApi>>;
let authorityOrigin: string;

beforeAll(async () => {
  paymentsApi = await startStepUpApi();
  web = await startWebAppChain(async (chain) => {
    const { authority, originalId } = chain;
    // Another API of the same registration (tokens for access_as_user), with a step-up route.
    @Module({ imports: [OboModule.forRoot({ instance: authority.instance, tenantId: authority.tenantId, clientId: originalId })], controllers: [ApprovalsController] })
    class ApprovalsModule {}
    approvalsApi = await listen(ApprovalsModule);
    const original = { baseUrl: chain.original.url, scopes: [`api://${originalId}/access_as_user`] };
    return {
      downstreamApis: {
        original,
        downstream: { baseUrl: chain.downstream!.url, scopes: [chain.downstreamScope] },
        approvals: { ...original, baseUrl: approvalsApi.url },
        payments: { ...original, baseUrl: paymentsApi.url },
      },
    };
  }, undefined, [StepUpPagesController]);
  authorityOrigin = new URL(web.chain.authority.instance).origin;
});

afterAll(async () => {
  await web?.close();
  await approvalsApi?.close();
  await new Promise<void>((resolve) => paymentsApi?.server.close(() => resolve()));
});

async function signedIn(): Promise<HttpBrowser> {
  const browser = new HttpBrowser();
  const first = await browser.navigate(`${web.url}/profile`);
  const { pages } = await throughAuthority(browser, first, authorityOrigin, ADELE);
  expect(pages[0]).toBe('sign-in');
  return browser;
}

describe('#140 the web app acts on a web API\u2019s step-up demand', () => {
  it('Entra form: the authentication context (acrs c1) an Original-API route demands becomes the MFA step, then the page renders, and again without the authority', async () => {
    const browser = await signedIn();
    const first = await browser.navigate(`${web.url}/approvals`);
    const toAuthority = first.find((hop) => hop.location?.startsWith(authorityOrigin));
    expect(toAuthority).toBeDefined();
    const authorize = new URL(toAuthority!.location!);
    // msal-node built it: the claims asked for, for the same user.
    expect(JSON.parse(authorize.searchParams.get('claims')!)).toMatchObject({ access_token: { acrs: { essential: true, value: 'c1' } } });
    expect(authorize.searchParams.get('login_hint')).toBe(ADELE.username);
    const { hops, pages } = await throughAuthority(browser, first, authorityOrigin, ADELE);
    expect(pages).toEqual(['mfa']);
    expect(hops.at(-1)!.status).toBe(200);
    expect(hops.at(-1)!.body).toContain('<p id="approvals">PO-1</p>');
    const again = await browser.navigate(`${web.url}/approvals`);
    expect(again.map((hop) => hop.status)).toEqual([200]);
  });

  it('RFC 9470 form: acr_values and max_age reach the authority, which signs the user in again (max_age 0), and the API accepts the new token', async () => {
    const browser = await signedIn();
    const authorizeBefore = web.chain.authority.requests.authorize;
    const first = await browser.navigate(`${web.url}/payments`);
    const toAuthority = first.find((hop) => hop.location?.startsWith(authorityOrigin));
    expect(toAuthority).toBeDefined();
    const params = new URL(toAuthority!.location!).searchParams;
    expect(params.get('acr_values')).toBe('urn:example:acr:mfa');
    expect(params.get('max_age')).toBe('0');
    // No claims request for the access token (msal-node adds its own ID-token claims, nothing else).
    expect(JSON.parse(params.get('claims') ?? '{}')).not.toHaveProperty('access_token');
    // The user is signed in at the authority, but max_age 0 asks for a new authentication.
    const { hops, pages } = await throughAuthority(browser, first, authorityOrigin, ADELE);
    expect(pages).toEqual(['sign-in']);
    expect(web.chain.authority.requests.authorize).toBeGreaterThan(authorizeBefore);
    expect(hops.at(-1)!.body).toContain('<p id="payments">true</p>');
    expect(paymentsApi.tokens.length).toBeGreaterThanOrEqual(2);
    expect(paymentsApi.tokens.at(-1)).not.toBe(paymentsApi.tokens[0]);
  });
});
