import type { FactoryProvider } from '@nestjs/common';
import { RESOLVED_OBO_OPTIONS } from '../../options/obo-options.constants.js';
import type { ResolvedOboOptions } from '../../options/resolve-obo-options.js';
import { MsalTokenExchanger } from './msal-token-exchanger.js';
import { Rfc8693TokenExchanger } from './rfc8693-token-exchanger.js';
import { TokenExchanger } from './token-exchanger.js';

/** The module's {@link TokenExchanger}: msal-node on Entra ID (`provider: 'entra'`), RFC 8693 at any other authority (`'oidc'`). */
export const tokenExchangerProvider: FactoryProvider<TokenExchanger> = {
  provide: TokenExchanger,
  inject: [RESOLVED_OBO_OPTIONS, MsalTokenExchanger, Rfc8693TokenExchanger],
  useFactory: (options: ResolvedOboOptions, msal: MsalTokenExchanger, rfc8693: Rfc8693TokenExchanger) => (options.provider === 'entra' ? msal : rfc8693),
};
