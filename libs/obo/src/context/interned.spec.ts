import { internList, internText } from './interned.js';

describe('interned values shared by principals and cached tokens', () => {
  it('equal lists are one frozen array; a changed copy of the input does not change it', () => {
    const input = ['access_as_user', 'read'];
    const a = internList(input);
    input[0] = 'admin';
    expect(a).toEqual(['access_as_user', 'read']);
    expect(Object.isFrozen(a)).toBe(true);
    expect(internList(['access_as_user', 'read'])).toBe(a);
    expect(internList(['read', 'access_as_user'])).not.toBe(a);
    expect(internList([])).toEqual([]);
  });

  it('never confuses lists whose texts hold the separator', () => {
    const joined = internList(['a\0b']);
    const two = internList(['a', 'b']);
    expect(joined).toEqual(['a\0b']);
    expect(two).toEqual(['a', 'b']);
    expect(internList(['a\0b'])).toEqual(['a\0b']);
  });

  it('equal texts give the same text', () => {
    const tenant = 'a'.repeat(8) + '-tenant';
    expect(internText(`${'a'.repeat(8)}-tenant`)).toBe(tenant);
  });
});
