import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 1;
const KEY_ID = 4;
const IV = 12;
const TAG = 16;
const HEADER = 1 + KEY_ID + IV + TAG;

/**
 * Seals text with AES-256-GCM under a storage key: the key (and `purpose`) are the associated
 * data, so a value copied under another key, or from one purpose to another, fails to open. The
 * first encryption key seals; every key opens (key rotation without a flush). Layout: version,
 * key id (4 bytes of SHA-256 of the key), IV, tag, ciphertext. Internal.
 */
export class TextSealer {
  private readonly keys: ReadonlyArray<{ id: Buffer; key: Buffer }>;

  /**
   * @param purpose what is sealed (`token`, `web`): values of one purpose never open as another's
   * @param keys 32-byte AES keys, at least one; the first seals
   */
  constructor(
    private readonly purpose: string,
    keys: readonly Buffer[],
  ) {
    if (keys.length === 0 || keys.some((key) => key.length !== 32)) throw new RangeError('TextSealer needs at least one 32-byte key.');
    this.keys = keys.map((key) => ({ id: createHash('sha256').update(key).digest().subarray(0, KEY_ID), key }));
  }

  seal(storageKey: string, text: string): Buffer {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(this.aad(storageKey));
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), id, iv, cipher.getAuthTag(), body]);
  }

  /** The text, or `undefined` when `value` is not one we sealed for `storageKey`. */
  open(storageKey: string, value: Buffer): string | undefined {
    if (value.length <= HEADER || value[0] !== VERSION) return undefined;
    const id = value.subarray(1, 1 + KEY_ID);
    const entry = this.keys.find((k) => k.id.equals(id));
    if (!entry) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', entry.key, value.subarray(1 + KEY_ID, 1 + KEY_ID + IV));
      decipher.setAAD(this.aad(storageKey));
      decipher.setAuthTag(value.subarray(1 + KEY_ID + IV, HEADER));
      return Buffer.concat([decipher.update(value.subarray(HEADER)), decipher.final()]).toString('utf8');
    } catch {
      return undefined; // authentication failed: tampered, truncated or sealed for another key
    }
  }

  private aad(storageKey: string): Buffer {
    return Buffer.from(`nestjs-obo/${this.purpose}/v${VERSION}\0${storageKey}`, 'utf8');
  }
}
