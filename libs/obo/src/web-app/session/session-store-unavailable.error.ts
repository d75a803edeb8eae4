import { OboError } from '../../errors/obo.error.js';

/**
 * The session store (Redis) failed or did not answer in time. Sessions fail closed: the request
 * is refused (503 with `Retry-After`), never served as signed out or as someone else.
 */
export class SessionStoreUnavailableError extends OboError {
  constructor(options?: { cause?: unknown }) {
    super('ERR_OBO_SESSION_STORE_UNAVAILABLE', 'The session store is unavailable; retry shortly.', options);
  }
}
