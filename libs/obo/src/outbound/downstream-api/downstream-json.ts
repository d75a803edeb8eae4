import type { Logger } from '@nestjs/common';
import { downstreamFailed as failed, type DownstreamResponse } from './downstream-client.js';

/**
 * The JSON body of a downstream API's answer after its 401 handling: a second 401 (to a freshly
 * acquired token) or any other non-2xx status is `ERR_OBO_DOWNSTREAM_FAILED` (one warning, the body
 * discarded, never echoed); an empty body is `undefined`; the deadline covers reading the body.
 * @throws {OboError} `ERR_OBO_DOWNSTREAM_FAILED`, `ERR_OBO_DOWNSTREAM_TIMEOUT`
 */
export async function downstreamJson<T>(response: DownstreamResponse, name: string, logger: Logger): Promise<T> {
  if (response.status === 401) {
    await response.discard();
    throw failed(`Downstream API "${name}" refused a freshly acquired token.`);
  }
  if (response.status < 200 || response.status > 299) {
    await response.discard();
    logger.warn(`Downstream API "${name}" answered ${response.status}.`);
    throw failed(`Downstream API "${name}" answered ${response.status}.`);
  }
  const text = await response.text();
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw failed(`Downstream API "${name}" answered with a body that is not JSON.`, error);
  }
}
