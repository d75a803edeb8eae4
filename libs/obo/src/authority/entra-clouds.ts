/**
 * The Entra clouds, as msal calls them (`AzureCloudInstance`), with what a token validator needs
 * to know of each without asking the cloud: its authority hosts and the issuer of its v1.0 tokens.
 * Sources: Microsoft identity platform "National clouds" and "Access token claims reference"
 * (v1.0 `iss` is `https://sts.windows.net/{tenant}/` in the public and US Government clouds and
 * `https://sts.chinacloudapi.cn/{tenant}/` in Azure China).
 */
export type AzureCloudInstance = 'AzurePublic' | 'AzureUsGovernment' | 'AzureChina';

/** One Entra cloud. */
export interface EntraCloud {
  readonly name: AzureCloudInstance;
  /** Hosts an `instance` of this cloud may have (lower case). */
  readonly hosts: readonly string[];
  /** The v1.0 token issuer as a `{tenantid}` template. */
  readonly issuerV1: string;
}

export const ENTRA_CLOUDS: Readonly<Record<AzureCloudInstance, EntraCloud>> = {
  AzurePublic: {
    name: 'AzurePublic',
    hosts: ['login.microsoftonline.com', 'login.microsoft.com', 'login.windows.net', 'sts.windows.net', 'login.windows-ppe.net'],
    issuerV1: 'https://sts.windows.net/{tenantid}/',
  },
  AzureUsGovernment: {
    name: 'AzureUsGovernment',
    hosts: ['login.microsoftonline.us', 'login.usgovcloudapi.net'],
    issuerV1: 'https://sts.windows.net/{tenantid}/',
  },
  AzureChina: {
    name: 'AzureChina',
    hosts: ['login.chinacloudapi.cn', 'login.partner.microsoftonline.cn'],
    issuerV1: 'https://sts.chinacloudapi.cn/{tenantid}/',
  },
};

/** The cloud an instance host belongs to, if it is one of the table's. */
export function cloudOfHost(host: string): EntraCloud | undefined {
  const lower = host.toLowerCase();
  return Object.values(ENTRA_CLOUDS).find((cloud) => cloud.hosts.includes(lower));
}
