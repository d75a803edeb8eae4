// Catalogue section 4.6 (#57-#69): scopes, app permissions, user/app classification, client
// allow-list and principal identity, plus the route policies of the test API (/either,
// /admin/*, /open, /context), end to end over real HTTP against the local authority.
import { randomUUID } from 'node:crypto';
import type { MintOptions } from 'nestjs-obo/testing';
import { harness, type Harness } from './support/api-harness.js';
import { ADAPTERS } from './support/api-under-test.js';
import { expectRejection, get, LEAK_PATTERNS } from './support/expect-rejection.js';
import type { PrincipalJson } from './support/principal-json.js';

type Res = Awaited<ReturnType<typeof get>>;

function ok<T = PrincipalJson>(res: Res): T {
  expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: expect.any(String) });
  return JSON.parse(res.body) as T;
}

/** 403 insufficient_scope whose `scope` parameter is exactly `scope`. */
function expectForbidden(res: Res, scope: string): void {
  expectRejection(res, 'H403');
  const challenge = (res.headers as Headers).get('www-authenticate') ?? '';
  expect(challenge.endsWith(`, scope="${scope}"`)).toBe(true);
  expect(challenge).toMatch(/^Bearer error="insufficient_scope", error_description="[^"]+", scope="[^"]+"$/);
}

/** 403 ERR_OBO_CLIENT_NOT_ALLOWED: insufficient_scope challenge without a scope parameter. */
function expectClientNotAllowed(res: Res): void {
  expect(res.status).toBe(403);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'message', 'statusCode']);
  expect(body.code).toBe('ERR_OBO_CLIENT_NOT_ALLOWED');
  expect(body.statusCode).toBe(403);
  const headers = res.headers as Headers;
  const challenge = headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer error="insufficient_scope", error_description="[^"]+"$/);
  expect(challenge).not.toContain('scope=');
  expect(headers.get('cache-control')).toBe('no-store');
  expect(headers.get('set-cookie')).toBeNull();
  for (const pattern of LEAK_PATTERNS) expect(`${res.body} ${challenge}`).not.toMatch(pattern);
}

/** A user token: `scp` and roles as given (undefined removes), oid and sub distinct. */
function userToken(h: Harness, claims: Record<string, unknown> = {}, options: MintOptions = {}): string {
  return h.authority.mintUserToken({ ...options, claims: { ...claims, ...options.claims } });
}

/** An app-only token with `idtyp: "app"`, `oid === sub` and the given roles (undefined removes the claim). */
function appToken(h: Harness, roles: unknown, claims: Record<string, unknown> = {}, options: MintOptions = {}): string {
  return h.authority.mintAppToken({ ...options, claims: { roles, ...claims } });
}

describe.each(ADAPTERS)('#57 tokens with neither scp nor roles on %s', (adapter) => {
  const h = harness({}, undefined, adapter);

  it.each<[string, (h: Harness) => string]>([
    ['a user token without scp or roles', (x) => userToken(x, { scp: undefined })],
    ['a user token with idtyp "user" and without scp or roles', (x) => userToken(x, { scp: undefined, idtyp: 'user' })],
    ['an app token (idtyp "app") without roles', (x) => appToken(x, undefined)],
    ['an app token without idtyp and without roles', (x) => appToken(x, undefined, { idtyp: undefined })],
    ['a user token with an empty scp and no roles', (x) => userToken(x, { scp: '' })],
    ['an app token with an empty roles array', (x) => appToken(x, [])],
  ])('answers 401 invalid_token (pinned) for %s', async (_name, token) => {
    for (const path of ['/delegated', '/app', '/authenticated']) {
      expectRejection(await get(`${h.api.url}${path}`, token(h)), 'H401');
    }
  });
});

describe.each(ADAPTERS)('#58-#60 delegated scopes (scp) on /delegated on %s', (adapter) => {
  const h = harness({}, undefined, adapter);

  it.each([['Access_As_User'], ['ACCESS_AS_USER'], ['access_As_user']])('#58 answers 403 insufficient_scope when scp is %j (case differs)', async (scp) => {
    expectForbidden(await get(`${h.api.url}/delegated`, userToken(h, { scp })), 'access_as_user');
  });

  it.each([
    ['access_as_user_admin'],
    ['xaccess_as_user'],
    ['access_as_users'],
    ['access_as_user,other'],
    ['other,access_as_user'],
    ['access_as_use'],
    ['access_as_user.read'],
    ['access_as_user\tUser.Read'],
    ['User.Read\taccess_as_user'],
    ['"access_as_user"'],
    ['User.Read Files.Read'],
  ])('#59 answers 403 insufficient_scope when scp is %j (substring or separator lookalike)', async (scp) => {
    expectForbidden(await get(`${h.api.url}/delegated`, userToken(h, { scp })), 'access_as_user');
  });

  it.each([['access_as_user'], ['User.Read access_as_user'], ['access_as_user User.Read'], ['User.Read access_as_user Files.Read']])(
    '#60 answers 200 when scp is %j and reports the split scopes',
    async (scp) => {
      const principal = ok(await get(`${h.api.url}/delegated`, userToken(h, { scp })));
      expect(principal.scopes).toEqual(scp.split(' '));
      expect(principal.isAppOnly).toBe(false);
    },
  );

  it('#60 answers 200 on POST /delegated with the scope', async () => {
    const res = await fetch(`${h.api.url}/delegated`, { method: 'POST', headers: { authorization: `Bearer ${userToken(h)}` } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as PrincipalJson).scopes).toEqual(['access_as_user']);
  });
});

describe.each(ADAPTERS)('#61 scp of the wrong type on %s', (adapter) => {
  const h = harness({}, undefined, adapter);

  it.each<[string, unknown]>([
    ['an array', ['access_as_user']],
    ['a number', 1],
    ['an object', {}],
    ['an object holding the scope', { access_as_user: true }],
    ['null', null],
    ['true', true],
  ])('answers 401 invalid_token when scp is %s', async (_name, scp) => {
    for (const path of ['/delegated', '/authenticated']) {
      expectRejection(await get(`${h.api.url}${path}`, userToken(h, { scp })), 'H401');
    }
  });

  it('answers 401 invalid_token when scp is a string array on an app token that also has roles', async () => {
    expectRejection(await get(`${h.api.url}/app`, appToken(h, ['Data.Read.All'], { idtyp: undefined, scp: ['access_as_user'] })), 'H401');
  });
});

describe.each(ADAPTERS)('#62-#66 app-only tokens and app permissions (roles) on %s', (adapter) => {
  const h = harness({}, undefined, adapter);

  it('#62 answers 403 insufficient_scope for an app token (idtyp app, roles Data.Read.All) on /delegated', async () => {
    expectForbidden(await get(`${h.api.url}/delegated`, appToken(h, ['Data.Read.All'])), 'access_as_user');
  });

  it('#62 answers 403 insufficient_scope for an app token whose roles name the delegated scope', async () => {
    expectForbidden(await get(`${h.api.url}/delegated`, appToken(h, ['access_as_user'])), 'access_as_user');
  });

  describe('#63 app token without idtyp (no scp, oid === sub)', () => {
    it('answers 403 insufficient_scope on /delegated', async () => {
      expectForbidden(await get(`${h.api.url}/delegated`, appToken(h, ['Data.Read.All'], { idtyp: undefined })), 'access_as_user');
    });

    it('answers 200 on /app with role Data.Read.All and is classified app-only', async () => {
      const principal = ok(await get(`${h.api.url}/app`, appToken(h, ['Data.Read.All'], { idtyp: undefined })));
      expect(principal.isAppOnly).toBe(true);
      expect(principal.roles).toEqual(['Data.Read.All']);
      expect(principal.scopes).toEqual([]);
      expect(principal.objectId).toBe(principal.subject);
    });
  });

  it.each<[string, string[]]>([
    ['["Data.Read.All"]', ['Data.Read.All']],
    ['["Other.Role", "Data.Read.All"]', ['Other.Role', 'Data.Read.All']],
  ])('#64 answers 200 on /app for an app token with roles %s', async (_name, roles) => {
    const principal = ok(await get(`${h.api.url}/app`, appToken(h, roles)));
    expect(principal.isAppOnly).toBe(true);
    expect(principal.roles).toEqual(roles);
    expect(principal.scopes).toEqual([]);
  });

  it.each<[string, string[]]>([
    ['["Data.Write.All"]', ['Data.Write.All']],
    ['["data.read.all"]', ['data.read.all']],
    ['["DATA.READ.ALL"]', ['DATA.READ.ALL']],
    ['["Data.Read.All.Evil"]', ['Data.Read.All.Evil']],
    ['["xData.Read.All"]', ['xData.Read.All']],
    ['["Data.Read"]', ['Data.Read']],
    ['["Data.Read.All Other"]', ['Data.Read.All Other']],
    ['["Data.Read.All,Other"]', ['Data.Read.All,Other']],
    ['["access_as_application"]', ['access_as_application']],
  ])('#65 answers 403 insufficient_scope on /app for an app token with roles %s', async (_name, roles) => {
    expectForbidden(await get(`${h.api.url}/app`, appToken(h, roles)), 'Data.Read.All');
  });

  it.each<[string, unknown]>([
    ['the string "Data.Read.All"', 'Data.Read.All'],
    ['an array holding a number', ['Data.Read.All', 1]],
    ['an array holding an array', [['Data.Read.All']]],
    ['an object', { 'Data.Read.All': true }],
    ['null', null],
  ])('#65 answers 401 invalid_token on /app when roles is %s', async (_name, roles) => {
    expectRejection(await get(`${h.api.url}/app`, appToken(h, roles)), 'H401');
  });

  it('#66 answers 403 insufficient_scope on /app for a user token (scp, oid != sub) carrying roles ["Data.Read.All"]', async () => {
    expectForbidden(await get(`${h.api.url}/app`, userToken(h, { roles: ['Data.Read.All'] })), 'Data.Read.All');
  });

  it('#66 answers 403 insufficient_scope on /app for a user token with idtyp "user", no scp and roles ["Data.Read.All"]', async () => {
    expectForbidden(await get(`${h.api.url}/app`, userToken(h, { scp: undefined, idtyp: 'user', roles: ['Data.Read.All'] })), 'Data.Read.All');
  });
});

describe.each(ADAPTERS)('#67 contradictory user/app classification on %s', (adapter) => {
  const h = harness({}, undefined, adapter);

  it.each<[string, (h: Harness) => string]>([
    ['idtyp "app" with scp', (x) => appToken(x, ['Data.Read.All'], { scp: 'access_as_user' })],
    ['idtyp "app" with scp and without roles', (x) => appToken(x, undefined, { scp: 'access_as_user' })],
    ['idtyp "user" with oid === sub', (x) => {
      const id = randomUUID();
      return userToken(x, { idtyp: 'user', oid: id, sub: id });
    }],
    ['no idtyp, scp present and oid === sub', (x) => {
      const id = randomUUID();
      return userToken(x, { oid: id, sub: id });
    }],
    ['idtyp "device"', (x) => userToken(x, { idtyp: 'device' })],
    ['idtyp "App" (case differs)', (x) => appToken(x, ['Data.Read.All'], { idtyp: 'App' })],
    ['idtyp as a number', (x) => userToken(x, { idtyp: 1 })],
    ['sub missing', (x) => userToken(x, { sub: undefined })],
    ['oid missing', (x) => userToken(x, { oid: undefined })],
    ['oid as a number', (x) => userToken(x, { oid: 42 })],
    ['oid empty', (x) => userToken(x, { oid: '' })],
  ])('answers 401 invalid_token for a token with %s', async (_name, token) => {
    const t = token(h);
    for (const path of ['/delegated', '/app', '/authenticated']) {
      expectRejection(await get(`${h.api.url}${path}`, t), 'H401');
    }
  });
});

describe.each(ADAPTERS)('#68 allowedClientApplications on %s', (adapter) => {
  const allowed = randomUUID();
  const other = randomUUID();
  const h = harness(() => ({ allowedClientApplications: [allowed] }), undefined, adapter);

  it('answers 200 for a v2 user token whose azp is on the list', async () => {
    expect(ok(await get(`${h.api.url}/delegated`, userToken(h, { azp: allowed }))).clientAppId).toBe(allowed);
  });

  it('answers 200 for a v1 user token whose appid is on the list', async () => {
    expect(ok(await get(`${h.api.url}/delegated`, userToken(h, { appid: allowed }, { version: '1.0' }))).clientAppId).toBe(allowed);
  });

  it('answers 200 for an app token whose azp is on the list', async () => {
    expect(ok(await get(`${h.api.url}/app`, appToken(h, ['Data.Read.All'], { azp: allowed }))).clientAppId).toBe(allowed);
  });

  it.each<[string, string, (h: Harness) => string]>([
    ['a v2 user token whose azp is not on the list', '/delegated', (x) => userToken(x, { azp: other })],
    ['a v2 user token without azp', '/delegated', (x) => userToken(x, { azp: undefined })],
    ['a v2 user token with azp upper-cased', '/delegated', (x) => userToken(x, { azp: allowed.toUpperCase() })],
    ['a v2 user token with appid on the list but azp not (v2 uses azp)', '/delegated', (x) => userToken(x, { azp: other, appid: allowed })],
    ['a v1 user token whose appid is not on the list', '/delegated', (x) => userToken(x, { appid: other }, { version: '1.0' })],
    ['a v1 user token with azp on the list but appid not (v1 uses appid)', '/delegated', (x) => userToken(x, { appid: other, azp: allowed }, { version: '1.0' })],
    ['an app token whose azp is not on the list', '/app', (x) => appToken(x, ['Data.Read.All'], { azp: other })],
    ['a v2 user token whose azp is not on the list, on /authenticated', '/authenticated', (x) => userToken(x, { azp: other })],
  ])('answers 403 ERR_OBO_CLIENT_NOT_ALLOWED for %s', async (_name, path, token) => {
    expectClientNotAllowed(await get(`${h.api.url}${path}`, token(h)));
  });

  it('still answers 403 insufficient_scope when the client is allowed but the scope is missing', async () => {
    expectForbidden(await get(`${h.api.url}/delegated`, userToken(h, { azp: allowed, scp: 'User.Read' })), 'access_as_user');
  });

  it('still answers 401 invalid_token for an invalid token from an allowed client', async () => {
    expectRejection(await get(`${h.api.url}/delegated`, userToken(h, { azp: allowed }, { audience: randomUUID() })), 'H401');
  });
});

describe.each(ADAPTERS)('#69 identity follows oid and tid, never mutable claims on %s', (adapter) => {
  const h = harness({}, undefined, adapter);

  it('gives two tokens with the same preferred_username, upn and email but different oid different object ids', async () => {
    const mutable = { preferred_username: 'admin@contoso.test', upn: 'admin@contoso.test', email: 'admin@contoso.test', name: 'Admin', unique_name: 'admin@contoso.test' };
    const [oidA, oidB] = [randomUUID(), randomUUID()];
    const a = ok(await get(`${h.api.url}/delegated`, userToken(h, { ...mutable, oid: oidA })));
    const b = ok(await get(`${h.api.url}/delegated`, userToken(h, { ...mutable, oid: oidB })));
    expect(a.objectId).toBe(oidA);
    expect(b.objectId).toBe(oidB);
    expect(a.objectId).not.toBe(b.objectId);
    expect(a.tenantId).toBe(h.authority.tenantId);
    expect(b.tenantId).toBe(h.authority.tenantId);
  });

  it('reports the token oid and tid in the principal and the request context', async () => {
    const oid = randomUUID();
    const token = userToken(h, { oid, preferred_username: 'someone-else@contoso.test' });
    expect(ok(await get(`${h.api.url}/delegated`, token)).objectId).toBe(oid);
    expect(ok<{ objectId: string }>(await get(`${h.api.url}/context`, token))).toEqual({ objectId: oid });
  });
});

describe.each(ADAPTERS)('route policies of the test API on %s', (adapter) => {
  const h = harness({}, undefined, adapter);

  describe('/either (access_as_user for users, Data.Read.All for apps)', () => {
    it('answers 200 for a user token with access_as_user', async () => {
      expect(ok(await get(`${h.api.url}/either`, userToken(h))).isAppOnly).toBe(false);
    });

    it('answers 200 for an app token with Data.Read.All', async () => {
      expect(ok(await get(`${h.api.url}/either`, appToken(h, ['Data.Read.All']))).isAppOnly).toBe(true);
    });

    it.each<[string, (h: Harness) => string]>([
      ['a user token with another scope', (x) => userToken(x, { scp: 'User.Read' })],
      ['a user token with another scope and roles ["Data.Read.All"]', (x) => userToken(x, { scp: 'User.Read', roles: ['Data.Read.All'] })],
      ['an app token with another role', (x) => appToken(x, ['Data.Write.All'])],
      ['an app token whose roles name access_as_user', (x) => appToken(x, ['access_as_user'])],
    ])('answers 403 insufficient_scope naming both for %s', async (_name, token) => {
      expectForbidden(await get(`${h.api.url}/either`, token(h)), 'access_as_user Data.Read.All');
    });
  });

  describe('/admin/default (class-level scope Admin.ReadWrite)', () => {
    it('answers 200 for a user token with Admin.ReadWrite', async () => {
      expect(ok<{ ok: boolean }>(await get(`${h.api.url}/admin/default`, userToken(h, { scp: 'Admin.ReadWrite' })))).toEqual({ ok: true });
    });

    it('answers 403 insufficient_scope for a user token with only access_as_user', async () => {
      expectForbidden(await get(`${h.api.url}/admin/default`, userToken(h)), 'Admin.ReadWrite');
    });

    it('answers 403 insufficient_scope for an app token whose roles name Admin.ReadWrite', async () => {
      expectForbidden(await get(`${h.api.url}/admin/default`, appToken(h, ['Admin.ReadWrite'])), 'Admin.ReadWrite');
    });
  });

  describe('/admin/override (handler app permission Data.Read.All replaces the class scope)', () => {
    it('answers 200 for an app token with Data.Read.All', async () => {
      expect(ok<{ ok: boolean }>(await get(`${h.api.url}/admin/override`, appToken(h, ['Data.Read.All'])))).toEqual({ ok: true });
    });

    it('answers 403 insufficient_scope naming only Data.Read.All for a user token with Admin.ReadWrite', async () => {
      expectForbidden(await get(`${h.api.url}/admin/override`, userToken(h, { scp: 'Admin.ReadWrite' })), 'Data.Read.All');
    });
  });

  describe('/open (@Public)', () => {
    it('answers 200 without a token, with no user and no context', async () => {
      expect(ok<unknown>(await get(`${h.api.url}/open`))).toEqual({ user: null, context: null });
    });

    it('shows no caller after authenticated requests on the same connection pool', async () => {
      for (let i = 0; i < 5; i++) {
        ok(await get(`${h.api.url}/context`, userToken(h)));
        expect(ok<unknown>(await get(`${h.api.url}/open`))).toEqual({ user: null, context: null });
      }
    });
  });

  describe('/context (principal from AsyncLocalStorage)', () => {
    it("returns the caller's objectId", async () => {
      const oid = randomUUID();
      expect(ok<unknown>(await get(`${h.api.url}/context`, userToken(h, { oid })))).toEqual({ objectId: oid });
    });

    it("keeps each caller's objectId under 50 concurrent requests from 50 users (no crossover)", async () => {
      const oids = Array.from({ length: 50 }, () => randomUUID());
      const tokens = oids.map((oid) => userToken(h, { oid }));
      const responses = await Promise.all(tokens.map((token) => get(`${h.api.url}/context`, token)));
      expect(responses.map((res) => ok<{ objectId: string }>(res).objectId)).toEqual(oids);
    });
  });
});
