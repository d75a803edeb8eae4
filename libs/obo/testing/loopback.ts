import { isIP } from 'node:net';

/** Throws unless `host` is a loopback address (127.0.0.0/8, ::1) or `localhost`. */
export function assertLoopback(host: string): void {
  const bare = host.replace(/^\[|\]$/g, '');
  const loopback = bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
  if (!loopback) throw new Error(`The local authority only binds loopback addresses; refusing "${host}".`);
}
