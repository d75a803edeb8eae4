import { OboConfigurationError } from '../errors/obo.error.js';
import { describeValue } from '../options/option-checks.js';
import type { AccessTokenVersion } from '../options/obo-module-options.interface.js';
import { flavourOfHost, type AuthorityFlavour } from './authority-flavour.js';
import { discoveryUrlV1, discoveryUrlV2 } from './entra-authority.js';
import { cloudOfHost, ENTRA_CLOUDS, type AzureCloudInstance } from './entra-clouds.js';

/** Where the authority's metadata comes from and what is known of it without asking. Internal. */
export type ResolvedAuthority = ResolvedEntraAuthority | ResolvedOidcAuthority;

/** A generic OpenID Connect / OAuth 2.0 authority (`issuer` set). Internal. */
export interface ResolvedOidcAuthority {
  readonly kind: 'oidc';
  /** The configured issuer, byte for byte. */
  readonly issuer: string;
  /** Metadata documents tried in order (see `oidcMetadataUrls`). */
  readonly metadataUrls: readonly string[];
}

/** An Entra ID authority (`instance` + `tenantId`). Internal. */
export interface ResolvedEntraAuthority {
  readonly kind: 'entra';
  readonly flavour: AuthorityFlavour;
  /** The cloud, from `azureCloudInstance` or the instance host; undefined for hosts not in the table. */
  readonly cloud?: AzureCloudInstance;
  /** The v2.0 discovery document: always fetched. */
  readonly discoveryUrlV2: string;
  /** The v1.0 discovery document: only when v1.0 tokens are accepted and the cloud table cannot name their issuer. */
  readonly discoveryUrlV1?: string;
  /** The v1.0 issuer template from the cloud table, when v1.0 tokens are accepted and the cloud is known. */
  readonly issuerV1?: string;
}

const B2C_UNSUPPORTED =
  'is an Azure AD B2C host (*.b2clogin.com). B2C is not supported: its tokens carry no tenant to bind, its keys and issuers are per user flow, ' +
  'and B2C has no On-Behalf-Of flow. Use Microsoft Entra External ID (https://<name>.ciamlogin.com/), or validate B2C tokens with another library.';

/** msal-node's `AzureCloudInstance` values (authority URLs), accepted for the names they stand for. */
const MSAL_CLOUD_URLS: Readonly<Record<string, AzureCloudInstance>> = {
  'https://login.microsoftonline.com': 'AzurePublic',
  'https://login.microsoftonline.us': 'AzureUsGovernment',
  'https://login.chinacloudapi.cn': 'AzureChina',
};

function resolveCloud(value: unknown, host: string, flavour: AuthorityFlavour): AzureCloudInstance | undefined {
  const fromHost = cloudOfHost(host)?.name;
  if (value === undefined) return fromHost;
  const text = typeof value === 'string' ? value.replace(/\/+$/, '') : undefined;
  const named = text === undefined ? undefined : text in ENTRA_CLOUDS ? (text as AzureCloudInstance) : MSAL_CLOUD_URLS[text.toLowerCase()];
  if (named === undefined) {
    throw new OboConfigurationError(
      'azureCloudInstance',
      `must be one of ${Object.keys(ENTRA_CLOUDS).join(', ')} (or msal-node's AzureCloudInstance value for one of them) (got ${describeValue(value)}).`,
    );
  }
  if (flavour === 'external-id') {
    throw new OboConfigurationError('azureCloudInstance', 'does not apply to External ID (ciamlogin.com): its issuers come from its own discovery document; remove it.');
  }
  if (fromHost !== undefined && fromHost !== named) {
    throw new OboConfigurationError('azureCloudInstance', `says ${named}, but the instance host ${host} belongs to ${fromHost}; remove azureCloudInstance (the host is enough) or fix instance.`);
  }
  return named;
}

/**
 * Decides, at startup, which documents the validator fetches and which issuers it knows already.
 * @throws {OboConfigurationError} for a B2C instance or an unknown `azureCloudInstance`.
 */
export function resolveAuthority(
  instance: string,
  tenant: string,
  versions: ReadonlySet<AccessTokenVersion>,
  azureCloudInstance: unknown,
): ResolvedEntraAuthority {
  const host = new URL(instance).host;
  const flavour = flavourOfHost(host);
  if (flavour === 'b2c') throw new OboConfigurationError('instance', B2C_UNSUPPORTED);
  const cloud = resolveCloud(azureCloudInstance, host, flavour);
  const wantsV1 = versions.has('1.0');
  // External ID issues its own v1.0 tokens from its own host; the workforce table does not apply.
  const issuerV1 = wantsV1 && cloud !== undefined && flavour === 'workforce' ? ENTRA_CLOUDS[cloud].issuerV1 : undefined;
  return {
    kind: 'entra',
    flavour,
    cloud,
    discoveryUrlV2: discoveryUrlV2(instance, tenant),
    discoveryUrlV1: wantsV1 && issuerV1 === undefined ? discoveryUrlV1(instance, tenant) : undefined,
    issuerV1,
  };
}
