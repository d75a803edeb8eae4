import type { ArgumentsHost } from '@nestjs/common';

/** True when `host` is a GraphQL resolver call (`@nestjs/graphql` names that context type `graphql`). */
export function isGraphQL(host: ArgumentsHost): boolean {
  return host.getType<string>() === 'graphql';
}

/**
 * The HTTP request behind an execution context: the route's request for a controller, the GraphQL
 * context's `req` for a resolver (what `GqlExecutionContext.create(context).getContext().req` reads;
 * `@nestjs/graphql` is an optional peer, so it is not imported). `undefined` when a resolver's
 * context carries no `req` (a custom `context` factory that drops it): callers then refuse.
 */
export function httpRequestOf<T extends object>(host: ArgumentsHost): T | undefined {
  if (!isGraphQL(host)) return host.switchToHttp().getRequest<T>();
  const context: unknown = host.getArgByIndex(2);
  const request = typeof context === 'object' && context !== null ? (context as { req?: unknown }).req : undefined;
  return typeof request === 'object' && request !== null ? (request as T) : undefined;
}
