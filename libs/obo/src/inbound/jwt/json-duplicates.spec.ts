import { hasDuplicateMemberNames } from './json-duplicates.js';

describe('hasDuplicateMemberNames', () => {
  it.each([
    '{"aud":"a","aud":"b"}',
    '{"a":1,"b":{"c":1,"c":2}}',
    '{"a":[{"x":1,"x":1}]}',
    '{"aud":"a","\\u0061ud":"b"}',
    '{"a":"x\\"y","a":1}',
  ])('finds the repeated member in %s', (json) => {
    expect(hasDuplicateMemberNames(json)).toBe(true);
  });

  it.each([
    '{"aud":"a","scp":"aud aud"}',
    '{"a":{"b":1},"b":{"a":1}}',
    '{"a":[1,{"a":2}],"b":[]}',
    '{"a":"{\\"a\\":1,\\"a\\":2}"}',
    '{}',
  ])('accepts %s, where names repeat only across objects or inside strings', (json) => {
    expect(hasDuplicateMemberNames(json)).toBe(false);
  });
});
