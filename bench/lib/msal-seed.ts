import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ConfidentialClientApplication } from '@azure/msal-node';
import { pairwiseSubject, signCompact, type LocalAuthority } from '../../libs/obo/testing/index.js';
import { claimsOf } from './fixture.js';

type Entity = Record<string, unknown>;

/** The part of msal-node's NodeStorage (the default in-memory cache of a CCA) that seeding uses. */
export interface NodeStorageLike {
  getCache(): Record<string, unknown>;
  /** `cache[key] = value`, then msal's change notification: what msal itself calls to write an entry. */
  setItem(key: string, value: unknown): void;
}

/** The NodeStorage of a CCA (`ClientApplication.storage`, protected in msal-node 7). */
export function storageOf(cca: ConfidentialClientApplication): NodeStorageLike {
  return (cca as unknown as { storage: NodeStorageLike }).storage;
}

/**
 * msal-node's `userAssertionHash` of an OBO assertion: `CryptoProvider.hashString` is
 * `base64EncodeUrl(sha256(assertion).toString("base64"), "base64")`, i.e. unpadded base64url of
 * the SHA-256 digest (`@azure/msal-node/src/crypto/CryptoProvider.ts`, `utils/EncodingUtils.ts`).
 */
export function userAssertionHash(assertion: string): string {
  return createHash('sha256').update(assertion).digest('base64url');
}

interface TemplateEntry {
  key: string;
  value: Entity;
  kind: 'Account' | 'IdToken' | 'AccessToken' | 'RefreshToken';
}

/** What a seeded user's entries hold, to check a hit returns them. */
export interface SeededUser {
  homeAccountId: string;
  accessToken: string;
}

/**
 * Seeds a CCA's cache with more OBO users the way the msal-node baseline lab did: the four entries
 * msal wrote for one real user (account, id token, access token, refresh token) are cloned for a
 * new user, with that user's `oid` in every key and `homeAccountId` (`<oid>.<tid>`, from
 * client_info), a re-encoded `clientInfo`, `userAssertionHash` of the new user's real assertion,
 * fresh secrets (id token and access token re-signed by the authority with the new user's claims,
 * a new 64-character refresh token), fresh timestamps; written with msal's own `NodeStorage.setItem`.
 */
export class MsalCacheSeeder {
  private entries: TemplateEntry[];
  private oid: string;
  private tid: string;
  private username: string;
  private name: string;

  constructor(
    private storage: NodeStorageLike,
    private authority: LocalAuthority,
    /** The assertion of a user msal cached through the real token endpoint. */
    templateAssertion: string,
  ) {
    const claims = claimsOf(templateAssertion);
    this.oid = claims.oid!;
    this.tid = claims.tid!;
    this.username = String(claims.preferred_username);
    this.name = String(claims.name);
    const home = `${this.oid}.${this.tid}`.toLowerCase();
    const cache = storage.getCache();
    const entries: TemplateEntry[] = [];
    for (const [key, value] of Object.entries(cache)) {
      if (!key.startsWith(`${home}-`)) continue;
      const entity = value as Entity;
      const kind = typeof entity.credentialType === 'string' ? entity.credentialType : 'authorityType' in entity ? 'Account' : undefined;
      if (kind !== 'Account' && kind !== 'IdToken' && kind !== 'AccessToken' && kind !== 'RefreshToken') throw new Error(`unexpected msal cache entry ${key}`);
      entries.push({ key, value: entity, kind });
    }
    const kinds = entries.map((e) => e.kind).sort().join(',');
    if (kinds !== 'AccessToken,Account,IdToken,RefreshToken') throw new Error(`template user has entries ${kinds}, expected one of each kind`);
    const at = entries.find((e) => e.kind === 'AccessToken')!.value;
    if (at.userAssertionHash !== userAssertionHash(templateAssertion)) throw new Error('userAssertionHash computation does not match msal');
    this.entries = entries;
  }

  /** Writes the four entries of the user of `assertion` (a real token minted for a new user). */
  seed(assertion: string): SeededUser {
    const claims = claimsOf(assertion);
    const oid = claims.oid!;
    const username = String(claims.preferred_username);
    const name = String(claims.name);
    const hash = userAssertionHash(assertion);
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    let accessToken = '';
    for (const template of this.entries) {
      const text = JSON.stringify(template.value)
        .replaceAll(this.oid, oid)
        .replaceAll(JSON.stringify(this.username), JSON.stringify(username))
        .replaceAll(JSON.stringify(this.name), JSON.stringify(name));
      const value = JSON.parse(text) as Entity;
      switch (template.kind) {
        case 'Account': {
          const info = JSON.parse(Buffer.from(String(value.clientInfo), 'base64url').toString('utf8')) as Record<string, string>;
          value.clientInfo = Buffer.from(JSON.stringify({ ...info, uid: oid })).toString('base64url');
          break;
        }
        case 'IdToken':
          value.secret = this.resign(String(template.value.secret), oid, username, name);
          value.lastUpdatedAt = String(nowMs);
          break;
        case 'AccessToken': {
          const lifetime = Number(template.value.expiresOn) - Number(template.value.cachedAt);
          const extended = Number(template.value.extendedExpiresOn) - Number(template.value.cachedAt);
          accessToken = this.resign(String(template.value.secret), oid, username, name);
          Object.assign(value, {
            secret: accessToken,
            cachedAt: String(now),
            expiresOn: String(now + lifetime),
            extendedExpiresOn: String(now + extended),
            lastUpdatedAt: String(nowMs),
            userAssertionHash: hash,
          });
          break;
        }
        case 'RefreshToken':
          value.secret = randomBytes(48).toString('base64url');
          value.lastUpdatedAt = String(nowMs);
          value.userAssertionHash = hash;
          break;
      }
      this.storage.setItem(template.key.replaceAll(this.oid, oid), value);
    }
    return { homeAccountId: `${oid}.${this.tid}`, accessToken };
  }

  /** The template token with the new user's claims, signed again by the authority's active key. */
  private resign(token: string, oid: string, username: string, name: string): string {
    const [header, payload] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const now = Math.floor(Date.now() / 1000);
    const lifetime = Number(claims.exp) - Number(claims.iat);
    Object.assign(claims, {
      oid,
      sub: pairwiseSubject(oid, String(claims.aud)),
      name,
      preferred_username: username,
      uti: randomUUID().replaceAll('-', ''),
      iat: now,
      nbf: now,
      exp: now + lifetime,
    });
    const key = this.authority.activeKey;
    return signCompact(Buffer.from(header!, 'base64url').toString('utf8'), JSON.stringify(claims), key.alg, key.privateKey);
  }
}
