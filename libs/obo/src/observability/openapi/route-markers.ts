import { DECORATORS } from '@nestjs/swagger';
import type { ProtectedRoute } from '../../inbound/scopes/protected-routes.service.js';

/**
 * The operation extension that carries a route's index from the handler's metadata into the
 * document while it is created. Never left in a document or on a handler.
 */
export const ROUTE_MARKER = 'x-obo-route';

type Handler = (...args: never[]) => unknown;

/**
 * Runs `create` (which must be synchronous: `SwaggerModule.createDocument`) with every route's
 * handler tagged with {@link ROUTE_MARKER} through `@nestjs/swagger`'s own extension metadata, which
 * it copies into each operation it emits for that handler, whatever its path, version, prefix or
 * operationId. Everything is put back before this returns, so nothing else ever sees the tags.
 *
 * A handler inherited from a base class is one function shared by every controller that extends
 * it, each with its own class-level requirement: such a route gets a stand-in, an own property of
 * its controller's prototype carrying the handler's metadata and its own tag, removed afterwards.
 */
export function withRouteMarkers<T>(routes: readonly ProtectedRoute[], create: () => T): T {
  const undo: Array<() => void> = [];
  try {
    routes.forEach((route, index) => undo.push(mark(route, index)));
    return create();
  } finally {
    for (const step of undo.reverse()) step();
  }
}

function mark(route: ProtectedRoute, index: number): () => void {
  const prototype = route.controller.prototype as Record<string, unknown>;
  const extensions = { ...(Reflect.getMetadata(DECORATORS.API_EXTENSION, route.handler) as object | undefined), [ROUTE_MARKER]: index };
  if (Object.hasOwn(prototype, route.methodName)) {
    const previous: unknown = Reflect.getOwnMetadata(DECORATORS.API_EXTENSION, route.handler);
    Reflect.defineMetadata(DECORATORS.API_EXTENSION, extensions, route.handler);
    return () => {
      if (previous === undefined) Reflect.deleteMetadata(DECORATORS.API_EXTENSION, route.handler);
      else Reflect.defineMetadata(DECORATORS.API_EXTENSION, previous, route.handler);
    };
  }
  const standIn = standInFor(route.handler);
  Reflect.defineMetadata(DECORATORS.API_EXTENSION, extensions, standIn);
  Object.defineProperty(prototype, route.methodName, { value: standIn, configurable: true, writable: true, enumerable: false });
  return () => {
    delete prototype[route.methodName];
  };
}

/** A function with `handler`'s name and metadata: what `@nestjs/swagger` reads of a handler. Never called. */
function standInFor(handler: Handler): Handler {
  const standIn = function (this: unknown, ...args: never[]): unknown {
    return Reflect.apply(handler, this, args);
  };
  Object.defineProperty(standIn, 'name', { value: handler.name });
  for (const key of Reflect.getMetadataKeys(handler) as unknown[]) Reflect.defineMetadata(key, Reflect.getMetadata(key, handler), standIn);
  return standIn;
}
