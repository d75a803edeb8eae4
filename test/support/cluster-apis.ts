// Original API instances that share one Redis Cluster as their token cache's second level, in this
// process, over real HTTP on 127.0.0.1, in front of the local authority and the sample Downstream
// API. Used by test/redis-cluster.e2e-spec.ts and bench/redis-cluster-failover.bench.ts (so its
// imports are relative: the bench runs without jest's module mapping).
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Controller, Get, HttpCode, Inject, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cluster } from 'ioredis';
import { CurrentUser, DownstreamApi, OboModule, Principal, RequiredScopes, TokenAcquisition, type DistributedCacheOptions } from '../../libs/obo/src/index.js';
import { tokenOwner } from '../../libs/obo/src/outbound/token-cache/cache-key.js';
import { LocalAuthority } from '../../libs/obo/testing/index.js';
import type { RedisCluster } from './redis-cluster.js';

const SECRET = 'cluster-secret';
const OTHER_SCOPE = Symbol('OTHER_SCOPE');

/** An app's ioredis Cluster client, as the README recommends it for the shared token cache. */
export function clusterClient(cluster: RedisCluster): Cluster {
  const client = new Cluster([...cluster.nodes], { redisOptions: { connectTimeout: 1_000 }, slotsRefreshTimeout: 1_000 });
  client.on('error', () => undefined); // the store's circuit breaker counts and logs failures
  return client;
}

/** The Downstream API: who the token it got is for. */
@Controller('api')
class WhoAmIController {
  @Get('whoami')
  @RequiredScopes('Downstream.Read')
  whoami(@CurrentUser() user: Principal): { objectId: string } {
    return { objectId: user.objectId };
  }
}

/** The Original API: OBO to the Downstream API, a second resource, and sign-out. */
@Controller('api')
class ClusterApiController {
  constructor(
    private readonly downstreamApi: DownstreamApi,
    private readonly tokens: TokenAcquisition,
    @Inject(OTHER_SCOPE) private readonly otherScope: string,
  ) {}

  /** The Downstream API's view of the caller, reached On-Behalf-Of. */
  @Get('profile')
  @RequiredScopes('access_as_user')
  async profile(): Promise<{ objectId: unknown }> {
    const whoami = await this.downstreamApi.get<{ objectId: unknown }>('downstream', '/api/whoami');
    return { objectId: whoami.objectId };
  }

  /** The same, after a second token for the same user (another resource): two cache entries for one user. */
  @Get('two-tokens')
  @RequiredScopes('access_as_user')
  async twoTokens(): Promise<{ objectId: unknown }> {
    await this.tokens.getAccessTokenForUser([this.otherScope]);
    return this.profile();
  }

  /** Removes the caller's tokens everywhere (as at sign-out). */
  @Post('sign-out')
  @HttpCode(204)
  @RequiredScopes('access_as_user')
  async signOut(@CurrentUser() user: Principal): Promise<void> {
    await this.tokens.removeTokensForUser(user.objectId, user.tenantId);
  }
}

/** A listening app. */
export interface RunningApi {
  readonly app: INestApplication;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
}

/** A user of the Original API: object id, a token for the API, and the owner hash its cache entries are tagged with. */
export interface ClusterUser {
  readonly oid: string;
  readonly token: string;
  readonly owner: string;
}

/** Instances sharing one cluster, and what they call. */
export interface ClusterApis {
  readonly authority: LocalAuthority;
  readonly instances: readonly RunningApi[];
  /** Each instance's own Cluster client, in order. */
  readonly clients: readonly Cluster[];
  newUser(): ClusterUser;
  /** One request to `instance` with `token`; the body's `objectId` when there is one. */
  call(instance: RunningApi, token: string, path?: string, method?: string): Promise<{ status: number; objectId?: unknown }>;
  close(): Promise<void>;
}

async function listen(module: unknown): Promise<RunningApi> {
  const app = await NestFactory.create(module as never, { logger: process.env.OBO_TEST_LOG ? ['log', 'warn', 'error'] : false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

/**
 * Starts the local authority, the Downstream API and `count` Original API instances, each with its
 * own ioredis Cluster client on `cluster` (as separate processes would have) and
 * `distributedCache` = `{ keyPrefix, encryptionKeys: [one shared key], ...cache }`.
 */
export async function startClusterApis(cluster: RedisCluster, count: number, cache: Partial<DistributedCacheOptions> & { keyPrefix: string }): Promise<ClusterApis> {
  const [originalId, downstreamId, otherId] = [randomUUID(), randomUUID(), randomUUID()];
  const authority = await LocalAuthority.start({ clientId: originalId });
  authority.registerApp({ clientId: originalId, clientSecret: SECRET, scopes: ['access_as_user'] });
  authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read'] });
  authority.registerApp({ clientId: otherId, scopes: ['Other.Read'] });
  const base = { instance: authority.instance, tenantId: authority.tenantId };
  const started: RunningApi[] = [];
  const clients: Cluster[] = [];
  const close = async () => {
    await Promise.all(started.map((api) => api.app.close()));
    clients.forEach((client) => client.disconnect());
    await authority.close();
  };
  try {
    @Module({ imports: [OboModule.forRoot({ ...base, clientId: downstreamId })], controllers: [WhoAmIController] })
    class DownstreamModule {}
    const downstream = await listen(DownstreamModule);
    started.push(downstream);
    const encryptionKey = randomBytes(32).toString('base64');
    for (let i = 0; i < count; i++) {
      const client = clusterClient(cluster);
      clients.push(client);
      @Module({
        imports: [
          OboModule.forRoot({
            ...base,
            clientId: originalId,
            clientSecret: SECRET,
            downstreamApis: { downstream: { baseUrl: downstream.url, scopes: [`api://${downstreamId}/Downstream.Read`] } },
            distributedCache: { redis: client, encryptionKeys: [encryptionKey], ...cache },
          }),
        ],
        controllers: [ClusterApiController],
        providers: [{ provide: OTHER_SCOPE, useValue: `api://${otherId}/Other.Read` }],
      })
      class OriginalModule {}
      started.push(await listen(OriginalModule));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    authority,
    instances: started.slice(1),
    clients,
    newUser: () => {
      const oid = randomUUID();
      return { oid, token: authority.mintUserToken({ claims: { oid } }), owner: tokenOwner(authority.tenantId, oid) };
    },
    call: async (instance, token, path = '/api/profile', method = 'GET') => {
      const response = await fetch(`${instance.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      const json = response.headers.get('content-type')?.includes('application/json') ? ((await response.json()) as { objectId?: unknown }) : (await response.text(), undefined);
      return { status: response.status, objectId: json?.objectId };
    },
    close,
  };
}
