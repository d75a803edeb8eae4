import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { WebSession } from '../session/web-session.js';
import type { SignedInAccount } from '../sign-in/sign-in-client.js';

/** One web-app request: its session (if the browser has one) and its request and response. */
export interface WebAppRequestStore {
  session: WebSession | undefined;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
}

/**
 * The current web-app request, through AsyncLocalStorage: singleton services (token acquisition,
 * downstream calls, the challenge that sends the browser to the authority) find the signed-in user
 * and their session without request-scoped providers. Opened by the module's request handler.
 */
@Injectable()
export class WebAppContext {
  private readonly storage = new AsyncLocalStorage<WebAppRequestStore>();

  /** Runs `callback` inside a request's context. */
  run<T>(store: WebAppRequestStore, callback: () => T): T {
    return this.storage.run(store, callback);
  }

  /** The request being served, if any. */
  get current(): WebAppRequestStore | undefined {
    return this.storage.getStore();
  }

  /** The signed-in user of the request being served, if any. */
  get account(): SignedInAccount | undefined {
    return this.storage.getStore()?.session?.account;
  }

  /**
   * The session's anti-CSRF token, for a hidden `_csrf` field in forms that change state (sign-out
   * and the app's own). `undefined` without a session.
   */
  get csrfToken(): string | undefined {
    return this.storage.getStore()?.session?.csrfToken;
  }
}
