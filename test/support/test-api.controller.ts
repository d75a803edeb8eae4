import { Controller, Get, Post } from '@nestjs/common';
import { CurrentUser, Principal, Public, RequestContext, RequiredAppPermissions, RequiredScopes } from 'nestjs-obo';

/** Routes of the catalogue: /delegated, /app, /either, /authenticated, /open, /context. */
@Controller()
export class TestApiController {
  constructor(private readonly context: RequestContext) {}

  @Get('delegated')
  @RequiredScopes('access_as_user')
  delegated(@CurrentUser() user: Principal): Principal {
    return user;
  }

  @Post('delegated')
  @RequiredScopes('access_as_user')
  delegatedPost(@CurrentUser() user: Principal): Principal {
    return user;
  }

  @Get('app')
  @RequiredAppPermissions('Data.Read.All')
  app(@CurrentUser() user: Principal): Principal {
    return user;
  }

  @Get('either')
  @RequiredScopes('access_as_user')
  @RequiredAppPermissions('Data.Read.All')
  either(@CurrentUser() user: Principal): Principal {
    return user;
  }

  @Get('authenticated')
  authenticated(@CurrentUser() user: Principal): Principal {
    return user;
  }

  @Get('open')
  @Public()
  open(@CurrentUser() user: Principal | undefined): { user: string | null; context: string | null } {
    return { user: user?.objectId ?? null, context: this.context.principal?.objectId ?? null };
  }

  @Get('context')
  @RequiredScopes('access_as_user')
  async fromContext(): Promise<{ objectId: string | undefined }> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { objectId: this.context.principal?.objectId };
  }
}

/** Class-level scopes with one handler that overrides them. */
@Controller('admin')
@RequiredScopes('Admin.ReadWrite')
export class ClassScopedController {
  @Get('default')
  byClass(): { ok: true } {
    return { ok: true };
  }

  @Get('override')
  @RequiredAppPermissions('Data.Read.All')
  byHandler(): { ok: true } {
    return { ok: true };
  }
}
