import { randomBytes } from 'node:crypto';
import { TextSealer } from './text-sealer.js';

const key = () => randomBytes(32);

describe('TextSealer', () => {
  it('opens what it sealed for the same storage key, and hides the text', () => {
    const sealer = new TextSealer('web', [key()]);
    const sealed = sealer.seal('p:session:abc', '{"account":"alice@example.com"}');
    expect(sealed.toString('latin1')).not.toContain('alice');
    expect(sealer.open('p:session:abc', sealed)).toBe('{"account":"alice@example.com"}');
  });

  it('reads a value moved to another storage key as absent', () => {
    const sealer = new TextSealer('web', [key()]);
    expect(sealer.open('p:session:other', sealer.seal('p:session:abc', 'x'))).toBeUndefined();
  });

  it('reads a value of another purpose under the same key and encryption key as absent', () => {
    const k = key();
    expect(new TextSealer('web', [k]).open('k', new TextSealer('token', [k]).seal('k', 'x'))).toBeUndefined();
  });

  it('reads a flipped byte, a truncated value and an unknown key id as absent', () => {
    const sealer = new TextSealer('web', [key()]);
    const sealed = sealer.seal('k', 'some text');
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    expect(sealer.open('k', flipped)).toBeUndefined();
    expect(sealer.open('k', sealed.subarray(0, 20))).toBeUndefined();
    expect(new TextSealer('web', [key()]).open('k', sealed)).toBeUndefined();
  });

  it('seals with the first key and opens with any (rotation without a flush)', () => {
    const [oldKey, newKey] = [key(), key()];
    const before = new TextSealer('web', [oldKey]).seal('k', 'old');
    const rotated = new TextSealer('web', [newKey, oldKey]);
    expect(rotated.open('k', before)).toBe('old');
    expect(new TextSealer('web', [oldKey]).open('k', rotated.seal('k', 'new'))).toBeUndefined();
  });

  it('refuses to work without a 32-byte key', () => {
    expect(() => new TextSealer('web', [])).toThrow(RangeError);
    expect(() => new TextSealer('web', [randomBytes(16)])).toThrow(RangeError);
  });
});
