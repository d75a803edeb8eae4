import { Injectable } from '@nestjs/common';
import { Field, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { CurrentUser, DownstreamApi, Principal, Public, RequestContext, RequiredAppPermissions, RequiredScopes } from 'nestjs-obo';

@ObjectType('Caller')
export class CallerView {
  @Field(() => String) objectId!: string;
  @Field(() => String) tenantId!: string;
  @Field(() => [String]) scopes!: readonly string[];
  /** The principal the request context holds: what TokenAcquisition and DownstreamApi would use. */
  @Field(() => String, { nullable: true }) contextObjectId!: string | null;
}

@ObjectType('Profile')
export class ProfileView {
  @Field(() => String) callerObjectId!: string;
  /** The user the Downstream API saw in the On-Behalf-Of token. */
  @Field(() => String) downstreamObjectId!: string;
  @Field(() => [String]) downstreamScopes!: readonly string[];
}

/** Queries on resolver methods: `me`, `report` (a scope nobody has), `appReport`, `health` (public). */
@Resolver()
export class CallerResolver {
  constructor(private readonly context: RequestContext) {}

  @Query(() => CallerView)
  @RequiredScopes('access_as_user')
  me(@CurrentUser() user: Principal): CallerView {
    return { objectId: user.objectId, tenantId: user.tenantId, scopes: user.scopes, contextObjectId: this.context.principal?.objectId ?? null };
  }

  @Query(() => String)
  @RequiredScopes('Reports.Write')
  report(): string {
    return 'written';
  }

  @Query(() => String)
  @RequiredAppPermissions('Reports.Read.All')
  appReport(@CurrentUser() user: Principal): string {
    return user.objectId;
  }

  @Query(() => String)
  @Public()
  health(@CurrentUser() user: Principal | undefined): string {
    return user === undefined ? 'ok' : 'ok with a user';
  }
}

/** A resolver class whose requirement is on the class: every query needs `Admin.Read`. */
@Resolver()
@RequiredScopes('Admin.Read')
export class AdminResolver {
  @Query(() => String)
  adminNote(@CurrentUser() user: Principal): string {
    return `note for ${user.objectId}`;
  }
}

/**
 * Holds every caller until `parties` of them have arrived (their guards have all run), so their
 * downstream calls overlap for certain. Bounded: gives up after 10 s.
 */
@Injectable()
export class Rendezvous {
  private waiting: Array<() => void> = [];
  private parties = 0;

  /** The next `parties` arrivals wait for one another. */
  expect(parties: number): void {
    this.parties = parties;
    this.waiting = [];
  }

  arrive(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('rendezvous: not every party arrived within 10 s')), 10_000);
      this.waiting.push(() => (clearTimeout(timer), resolve()));
      if (this.waiting.length >= this.parties) for (const release of this.waiting.splice(0)) release();
    });
  }
}

/** Calls the Downstream API On-Behalf-Of the caller (`downstream`), or one that fails (`broken`). */
@Resolver()
export class ProfileResolver {
  constructor(
    private readonly downstream: DownstreamApi,
    private readonly rendezvous: Rendezvous,
  ) {}

  @Query(() => ProfileView)
  @RequiredScopes('access_as_user')
  async profile(@CurrentUser() user: Principal): Promise<ProfileView> {
    const seen = await this.downstream.get<{ objectId: string; scopes: string[] }>('downstream', '/api/whoami');
    return { callerObjectId: user.objectId, downstreamObjectId: seen.objectId, downstreamScopes: seen.scopes };
  }

  /** `profile`, once every caller of the batch has been authenticated (see {@link Rendezvous}). */
  @Query(() => ProfileView)
  @RequiredScopes('access_as_user')
  async profileTogether(@CurrentUser() user: Principal): Promise<ProfileView> {
    await this.rendezvous.arrive();
    return this.profile(user);
  }

  @Query(() => ProfileView)
  @RequiredScopes('access_as_user')
  async brokenProfile(@CurrentUser() user: Principal): Promise<ProfileView> {
    const seen = await this.downstream.get<{ objectId: string; scopes: string[] }>('broken', '/api/whoami');
    return { callerObjectId: user.objectId, downstreamObjectId: seen.objectId, downstreamScopes: seen.scopes };
  }
}
