import { OboConfigurationError } from '../errors/obo.error.js';
import { redisKeyPrefix } from './redis-options.js';

describe('#145 the Redis key prefix keeps each user\u2019s hash tag the only one', () => {
  it('takes up to 64 printable characters, the default when absent', () => {
    expect(redisKeyPrefix('distributedCache.keyPrefix', undefined, 'nestjs-obo:')).toBe('nestjs-obo:');
    expect(redisKeyPrefix('distributedCache.keyPrefix', 'app-1:', 'nestjs-obo:')).toBe('app-1:');
  });

  it.each(['{app}:', 'app}', 'a b', 'x'.repeat(65)])('refuses %j at startup, naming the option', (prefix) => {
    expect(() => redisKeyPrefix('distributedCache.keyPrefix', prefix, 'nestjs-obo:')).toThrow(OboConfigurationError);
    expect(() => redisKeyPrefix('distributedCache.keyPrefix', prefix, 'nestjs-obo:')).toThrow(/"distributedCache\.keyPrefix"/);
  });
});
