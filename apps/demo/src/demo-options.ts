import type { DevCertificate } from 'nestjs-obo/testing';
import { startAuth0Chain } from './auth0-chain.js';
import type { DemoChain } from './demo-chain.js';
import { startEntraChain } from './entra-chain.js';

/** Starts one provider's local authority and both sample APIs against it. */
type ChainStarter = (root: string, tls: DevCertificate) => Promise<DemoChain>;

/** The providers the demo can play, by `--provider` name. */
export const DEMO_PROVIDERS: Readonly<Record<string, ChainStarter>> = {
  entra: startEntraChain,
  auth0: startAuth0Chain,
};

/** What the command line asks of the demo. */
export interface DemoOptions {
  /** `--provider <name>` (or `--provider=<name>`): a key of {@link DEMO_PROVIDERS}. Default `entra`. */
  readonly provider: string;
  /** `--once`: walk the chain, self-check, stop (for tests and CI). */
  readonly once: boolean;
}

/**
 * Reads `--provider <name>`, `--provider=<name>` and `--once` from `args` (the arguments after the script).
 * @throws Error naming the known providers when the provider is unknown or missing, or an argument is not understood.
 */
export function parseDemoArgs(args: readonly string[]): DemoOptions {
  const known = Object.keys(DEMO_PROVIDERS).join(', ');
  let provider = 'entra';
  let once = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--once') once = true;
    else if (arg === '--provider') provider = args[++i] ?? '';
    else if (arg.startsWith('--provider=')) provider = arg.slice('--provider='.length);
    else throw new Error(`Unknown argument "${arg}". Usage: npm start -- [--provider ${Object.keys(DEMO_PROVIDERS).join('|')}] [--once]`);
  }
  if (provider === '' || provider.startsWith('--')) throw new Error(`--provider needs a name: one of ${known}.`);
  if (!Object.hasOwn(DEMO_PROVIDERS, provider)) throw new Error(`Unknown provider "${provider}": --provider must be one of ${known}.`);
  return { provider, once };
}
