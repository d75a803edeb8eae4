/**
 * Which kind of Entra authority an `instance` is, from its host alone:
 * - `workforce`: a Microsoft Entra ID tenant in one of the clouds (or a host we do not know, such as
 *   a local authority or a proxy: treated as workforce, with issuers taken from discovery);
 * - `external-id`: Microsoft Entra External ID for customers (`<name>.ciamlogin.com`); its discovery
 *   `issuer` lives on another host (`https://<tenant GUID>.ciamlogin.com/<tenant GUID>/v2.0`);
 * - `b2c`: Azure AD B2C (`<name>.b2clogin.com`), which the module refuses at startup.
 */
export type AuthorityFlavour = 'workforce' | 'external-id' | 'b2c';

/** The flavour of an instance host. */
export function flavourOfHost(host: string): AuthorityFlavour {
  const lower = host.toLowerCase().replace(/:\d+$/, '');
  if (lower.endsWith('.ciamlogin.com')) return 'external-id';
  if (lower.endsWith('.b2clogin.com')) return 'b2c';
  return 'workforce';
}
