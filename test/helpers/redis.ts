// Tests share the machine's Redis at 127.0.0.1:6379 (or REDIS_URL) and keep apart by key prefix.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { StandaloneRedis } from '../../src/config/redis-topology.js';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
/** The same server as a topology, for what opens its own connections (src/store/redis.ts connect). */
export const REDIS: StandaloneRedis = { kind: 'standalone', url: REDIS_URL };

export function testPrefix(name: string): string {
  return `test-${name}-${randomBytes(4).toString('hex')}`;
}

export function redisClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

/** Deletes every key under a prefix (SCAN, never KEYS on a shared server). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length) await redis.del(...found);
  } while (cursor !== '0');
}

/** Keys matching a pattern, by SCAN (KEYS blocks a shared server: 155 ms once with 300 000 keys). */
export async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...found);
  } while (cursor !== '0');
  return out;
}
