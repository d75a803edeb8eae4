import { join } from 'node:path';
import { spawnApp, type RunningApp } from './spawn-app.js';

/** The two sample APIs running as child processes. */
export interface SampleApps {
  readonly downstream: RunningApp;
  readonly original: RunningApp;
  /** Stops both (SIGTERM, graceful shutdown). */
  stop(): Promise<void>;
}

/** How to configure the sample APIs: environment for both, then each one's own. */
export interface SampleAppsEnvironment {
  /** For both (the authority's trust, HOST, AUTH_PROVIDER, ...); laid over this process's environment. */
  readonly common: NodeJS.ProcessEnv;
  /** The Downstream API's own variables. */
  readonly downstream: NodeJS.ProcessEnv;
  /** The Original API's own variables, given the Downstream API's URL. */
  readonly original: (downstreamUrl: string) => NodeJS.ProcessEnv;
}

/**
 * Starts the built Downstream API, then the Original API pointed at it (ports from DOWNSTREAM_PORT
 * and ORIGINAL_PORT, else free ones). If the Original API fails to start, the Downstream API is stopped.
 * @throws Error when an app exits or does not report its URL in time.
 */
export async function startSampleApps(root: string, env: SampleAppsEnvironment): Promise<SampleApps> {
  const common = { ...process.env, HOST: '127.0.0.1', ...env.common };
  const downstream = await spawnApp('downstream-api', join(root, 'dist/apps/downstream-api/src/main.js'), {
    ...common,
    PORT: process.env.DOWNSTREAM_PORT ?? '0',
    ...env.downstream,
  });
  let original: RunningApp;
  try {
    original = await spawnApp('original-api', join(root, 'dist/apps/original-api/src/main.js'), {
      ...common,
      PORT: process.env.ORIGINAL_PORT ?? '0',
      ...env.original(downstream.url),
    });
  } catch (error) {
    await downstream.stop();
    throw error;
  }
  return { downstream, original, stop: async () => void (await Promise.all([original.stop(), downstream.stop()])) };
}
