import type { ChainableCommander } from 'ioredis';

/**
 * Runs a MULTI ... EXEC built on `transaction` and throws when Redis discarded it or any command in
 * it failed (ioredis resolves those with per-command errors). On Redis Cluster every key of one
 * transaction must hash to one slot: callers give them one hash tag (`{...}`), or use one key.
 * Internal.
 * @returns the replies, in order
 */
export async function execTransaction(transaction: ChainableCommander): Promise<unknown[]> {
  const replies = await transaction.exec();
  if (!replies) throw new Error('Redis discarded the transaction');
  const failed = replies.find(([error]) => error);
  if (failed) throw failed[0];
  return replies.map(([, reply]) => reply);
}
