/**
 * `operation`, or a rejection after `ms` milliseconds. The command itself is left to the client
 * (its own timeout, or its late answer, which nobody waits for): this bounds what a caller waits,
 * also on an app's own ioredis client or cluster, whose options we do not set. Internal.
 */
export async function within<T>(ms: number, operation: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([operation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
