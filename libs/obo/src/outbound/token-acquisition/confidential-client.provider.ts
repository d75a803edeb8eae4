import { tenantAuthority } from '../../authority/entra-authority.js';
import { Logger, type FactoryProvider } from '@nestjs/common';
import { ConfidentialClientApplication, LogLevel, type Configuration, type NodeAuthOptions } from '@azure/msal-node';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { ClientAssertionSource } from './client-assertion-source.js';
import { DeadlineNetworkClient } from './deadline-network-client.js';

/** The one msal client of a module instance and the network client that carries its deadlines. */
export interface ConfidentialClient {
  readonly application: ConfidentialClientApplication;
  readonly network: DeadlineNetworkClient;
  /** Where the client assertion comes from, when the credential is one. */
  readonly assertions?: ClientAssertionSource;
}

/** Internal token of the {@link ConfidentialClient}; `null` when no client credential is configured. */
export const CONFIDENTIAL_CLIENT = Symbol('OBO_CONFIDENTIAL_CLIENT');

const logger = new Logger('MsalNode');

function credentialOf(options: ResolvedOboOptions, assertions: ClientAssertionSource | undefined): Partial<NodeAuthOptions> {
  const credential = options.credential!;
  switch (credential.kind) {
    case 'secret':
      return { clientSecret: credential.clientSecret };
    case 'certificate':
      return { clientCertificate: { ...credential.certificate } };
    case 'assertion':
      return { clientAssertion: () => assertions!.get() };
    case 'private-key':
      throw new Error('private_key_jwt credentials are for generic authorities; option resolution refuses them on Entra ID');
  }
}

/**
 * Builds the module's single ConfidentialClientApplication at startup: our deadline network
 * client, PII logging off, msal logs bridged to the Nest logger, and the instance host plus the
 * configured `knownAuthorities` as msal's known authorities, so a sovereign cloud or local authority
 * needs no instance-discovery call and an issuer on one of those hosts passes msal's issuer check.
 */
export function createConfidentialClient(options: ResolvedOboOptions): ConfidentialClient | null {
  // msal-node talks to Entra ID only; a generic authority's exchanger makes its own requests.
  if (!options.credential || options.provider !== 'entra') return null;
  const network = new DeadlineNetworkClient(options.tokenAcquisition.timeoutMs, options.egress.dispatcher);
  const assertions = options.credential.kind === 'assertion' ? new ClientAssertionSource(options.credential) : undefined;
  const application = new ConfidentialClientApplication(msalConfiguration(options, network, assertions));
  return { application, network, assertions };
}

/**
 * The msal-node configuration of this module's confidential client: the tenant authority, known
 * authorities, client capabilities, the credential, our network client, and logging without PII.
 * `extra` adds what one use needs (a web app's per-user cache plugin, cached authority metadata).
 */
export function msalConfiguration(
  options: ResolvedOboOptions,
  network: DeadlineNetworkClient,
  assertions: ClientAssertionSource | undefined,
  extra: { authorityMetadata?: string; cache?: Configuration['cache'] } = {},
): Configuration {
  return {
    auth: {
      clientId: options.clientId,
      authority: tenantAuthority(options.instance, options.multiTenant ? 'organizations' : options.tenantId),
      knownAuthorities: [...options.knownAuthorities],
      clientCapabilities: [...options.tokenAcquisition.clientCapabilities],
      ...(extra.authorityMetadata === undefined ? {} : { authorityMetadata: extra.authorityMetadata }),
      ...credentialOf(options, assertions),
    },
    ...(extra.cache === undefined ? {} : { cache: extra.cache }),
    system: {
      networkClient: network,
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message, containsPii) => {
          if (containsPii) return; // never forward anything msal marks as personal data
          if (level === LogLevel.Error) logger.error(message);
          else logger.warn(message);
        },
      },
    },
  };
}

export const confidentialClientProvider: FactoryProvider<ConfidentialClient | null> = {
  provide: CONFIDENTIAL_CLIENT,
  inject: [RESOLVED_OBO_OPTIONS],
  useFactory: createConfidentialClient,
};
