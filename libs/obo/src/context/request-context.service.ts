import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type { Principal } from './principal.js';

interface RequestStore {
  principal?: Principal;
}

/**
 * The current request's principal, through AsyncLocalStorage, so singleton services find the
 * caller without request-scoped providers. Filled by the JWT guard; empty outside a request.
 */
@Injectable()
export class RequestContext {
  private readonly storage = new AsyncLocalStorage<RequestStore>();

  /** Runs `callback` with a fresh, empty context (used by the module's middleware). */
  run<T>(callback: () => T): T {
    return this.storage.run({}, callback);
  }

  /** The principal of the request being served, if a guard authenticated one. */
  get principal(): Principal | undefined {
    return this.storage.getStore()?.principal;
  }

  /** True while a request is being served with an authenticated user (not app-only) principal. */
  get hasUser(): boolean {
    const principal = this.principal;
    return principal !== undefined && !principal.isAppOnly;
  }

  /**
   * @internal Called by the guard once the token is validated. Outside a context opened by the
   * module's middleware nothing is stored (never `enterWith`, which could leak a principal into
   * later work on the same async resource); pass `principal` explicitly there.
   */
  setPrincipal(principal: Principal): void {
    const store = this.storage.getStore();
    if (store) store.principal = principal;
  }
}
