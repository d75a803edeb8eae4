import { Module, type Type } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { OboModule, type OboModuleOptions } from 'nestjs-obo';
import { LocalAuthority, type MintOptions } from 'nestjs-obo/testing';
import { WhoAmIController } from '../../apps/downstream-api/src/whoami.controller.js';
import { ProfileController } from '../../apps/original-api/src/profile.controller.js';
import { listen, type ApiUnderTest, type HttpAdapterName } from './api-under-test.js';

/** The whole chain on loopback: client → Original API → Downstream API, and the authority. */
export interface OboChain {
  readonly authority: LocalAuthority;
  readonly originalId: string;
  readonly downstreamId: string;
  readonly clientSecret: string;
  /** The Original API (the sample's ProfileController), protected and calling downstream. */
  readonly original: ApiUnderTest;
  /** The Downstream API (the sample's WhoAmIController), when not replaced by `downstreamUrl`. */
  readonly downstream?: ApiUnderTest;
  /** The delegated scope the Original API asks for: `api://<downstream>/Downstream.Read`. */
  readonly downstreamScope: string;
  /** A user token for the Original API (scope access_as_user unless overridden). */
  userToken(options?: MintOptions): string;
  close(): Promise<void>;
}

export interface OboChainOptions {
  /** Overrides of the Original API's OboModule options. */
  original?: Partial<OboModuleOptions>;
  /** Use this URL as the downstream API instead of starting the sample one. */
  downstreamUrl?: string;
  /** Reuse an authority (the chain then does not close it). */
  authority?: LocalAuthority;
  /** Extra controllers for the Original API (they can inject TokenAcquisition / DownstreamApi). */
  controllers?: Type[];
  /** The HTTP platform both APIs run on. Default: express. */
  adapter?: HttpAdapterName;
}

/** Starts the authority (unless given), registers both APIs, and boots both Nest apps in this process. */
export async function startOboChain(options: OboChainOptions = {}): Promise<OboChain> {
  const originalId = randomUUID();
  const downstreamId = randomUUID();
  const clientSecret = `secret-${randomUUID()}`;
  const authority = options.authority ?? (await LocalAuthority.start({ clientId: originalId }));
  authority.registerApp({ clientId: originalId, clientSecret, scopes: ['access_as_user'], appRoles: { [downstreamId]: ['Downstream.Read.All'] } });
  authority.registerApp({ clientId: downstreamId, scopes: ['Downstream.Read', 'Downstream.Write'] });
  const base = { instance: authority.instance, tenantId: authority.tenantId };

  let downstream: ApiUnderTest | undefined;
  if (!options.downstreamUrl) {
    @Module({ imports: [OboModule.forRoot({ ...base, clientId: downstreamId })], controllers: [WhoAmIController] })
    class DownstreamModule {}
    downstream = await listen(DownstreamModule, options.adapter);
  }
  const baseUrl = options.downstreamUrl ?? downstream!.url;
  const downstreamScope = `api://${downstreamId}/Downstream.Read`;
  @Module({
    imports: [
      OboModule.forRoot({
        ...base,
        clientId: originalId,
        clientSecret,
        downstreamApis: {
          downstream: { baseUrl, scopes: [downstreamScope] },
          // The tenant is named so a multi-tenant Original API (tenantId organizations) starts too (#111).
          downstreamAsApp: { baseUrl, scopes: [`api://${downstreamId}/.default`], tokenKind: 'app', tenantId: authority.tenantId },
        },
        ...options.original,
      }),
    ],
    controllers: [ProfileController, ...(options.controllers ?? [])],
  })
  class OriginalModule {}
  const original = await listen(OriginalModule, options.adapter);
  return {
    authority,
    originalId,
    downstreamId,
    clientSecret,
    original,
    downstream,
    downstreamScope,
    userToken: (mint: MintOptions = {}) => authority.mintUserToken({ audience: originalId, ...mint }),
    close: async () => {
      await original.close();
      await downstream?.close();
      if (!options.authority) await authority.close();
    },
  };
}
