import { randomUUID } from 'node:crypto';

/** A user of the local authority's sign-in page (a test fixture: the password is stored as given). */
export interface LocalUser {
  /** Object id (GUID): `oid` of every token issued for the user. */
  readonly oid: string;
  /** Sign-in name, e.g. `adele@contoso.test`: `preferred_username` of the tokens. */
  readonly username: string;
  /** Display name: `name` of the tokens. */
  readonly name: string;
  /** Password the sign-in page accepts. */
  readonly password: string;
}

/** What {@link LocalAuthority.addUser} takes; `name` defaults to the username, `oid` to a random GUID. */
export interface NewLocalUser {
  username: string;
  password: string;
  name?: string;
  oid?: string;
}

/** Password of the default users (a published test fixture, printed by the demo). */
export const DEFAULT_USER_PASSWORD = 'Passw0rd!';

const DEFAULT_USERS: readonly (readonly [string, string])[] = [
  ['adele@contoso.test', 'Adele Vance'],
  ['megan@contoso.test', 'Megan Bowen'],
  ['alex@contoso.test', 'Alex Wilber'],
];

/** The users of one local authority: three default users, plus any added; looked up by username (case-insensitive) or oid. */
export class LocalUserDirectory {
  private readonly byName = new Map<string, LocalUser>();

  constructor() {
    for (const [username, name] of DEFAULT_USERS) this.add({ username, name, password: DEFAULT_USER_PASSWORD });
  }

  /** Adds (or replaces, by username) a user. */
  add(user: NewLocalUser): LocalUser {
    if (!user.username || !user.password) throw new Error('LocalAuthority.addUser: username and password are required.');
    const added: LocalUser = Object.freeze({ oid: user.oid ?? randomUUID(), username: user.username, name: user.name ?? user.username, password: user.password });
    this.byName.set(user.username.toLowerCase(), added);
    return added;
  }

  /** Every user, in the order added. */
  get all(): readonly LocalUser[] {
    return [...this.byName.values()];
  }

  /** The user signing in as `username`, if any. */
  byUsername(username: string): LocalUser | undefined {
    return this.byName.get(username.trim().toLowerCase());
  }

  /** The user with object id `oid`, if any. */
  byOid(oid: string): LocalUser | undefined {
    return this.all.find((user) => user.oid === oid);
  }
}
