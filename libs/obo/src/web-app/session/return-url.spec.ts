import { isLocalReturnUrl } from './return-url.js';

describe('the return URL after sign-in is a local path only (no open redirect)', () => {
  it.each<[string, string]>([
    ['/', '/'],
    ['/profile', '/profile'],
    ['/profile?tab=tokens&x=1', '/profile?tab=tokens&x=1'],
    ['/search?next=https://elsewhere.example/', '/search?next=https://elsewhere.example/'],
    ['/docs#section-2', '/docs#section-2'],
    ['/a/./b/../c', '/a/c'],
    ['/files/a%2Fb', '/files/a%2Fb'],
    ['/caf\u00e9 menu', '/caf%C3%A9%20menu'],
    ['/%2e%2e/admin', '/admin'],
  ])('accepts %j as %j', (value, expected) => {
    expect(isLocalReturnUrl(value)).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['an absolute URL', 'https://evil.example/'],
    ['a scheme-relative URL', '//evil.example/'],
    ['three slashes', '///evil.example/'],
    ['a backslash after the slash', '/\\evil.example/'],
    ['two backslashes', '\\\\evil.example'],
    ['a backslash anywhere', '/profile\\..\\..\\evil'],
    ['a backslash in the query', '/profile?next=/\\evil.example'],
    ['a control character in the query', '/profile?x=\u0007'],
    ['an encoded line feed in the query', '/profile?x=%0a'],
    ['an encoded backslash in the fragment', '/profile#%5c'],
    ['a tab between the slashes', '/\t/evil.example/'],
    ['a newline between the slashes', '/\n/evil.example/'],
    ['a carriage return and line feed (header injection)', '/profile\r\nSet-Cookie: a=b'],
    ['a NUL byte', '/profile\u0000'],
    ['an encoded slash making //', '/%2f%2fevil.example'],
    ['an encoded second slash', '/%2Fevil.example'],
    ['a double-encoded second slash', '/%252fevil.example'],
    ['an encoded backslash', '/%5cevil.example'],
    ['a double-encoded backslash', '/%255cevil.example'],
    ['an encoded newline', '/profile%0d%0aSet-Cookie:%20a=b'],
    ['an encoded tab', '/%09/evil.example'],
    ['a javascript: URL', 'javascript:alert(document.cookie)'],
    ['a data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['a scheme-relative URL with credentials', '//user@evil.example'],
    ['a path with // inside', '/redirect//evil.example'],
    ['a relative path', 'profile'],
    ['a leading space', ' /profile'],
    ['a dot-relative path', './/evil.example'],
    ['malformed percent-encoding', '/%E0%A4%A'],
    ['the empty string', ''],
    ['more than 2,048 characters', `/${'a'.repeat(2_048)}`],
    ['a number', 42],
    ['an array', ['/profile']],
    ['undefined', undefined],
  ])('refuses %s', (_case, value) => {
    expect(isLocalReturnUrl(value)).toBeUndefined();
  });

  it('accepts exactly 2,048 characters', () => {
    const path = `/${'a'.repeat(2_047)}`;
    expect(isLocalReturnUrl(path)).toBe(path);
  });
});
