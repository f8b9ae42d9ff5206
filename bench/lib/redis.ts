// Our keys on the shared Redis: one random prefix per run, removed with SCAN + DEL at the end (never FLUSHALL).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

export function benchPrefix(part: string): string {
  return `bench-${randomBytes(4).toString('hex')}-${part}`;
}

export async function dropPrefix(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  let n = 0;
  try {
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
      cursor = next;
      if (found.length) n += await redis.unlink(...found);
    } while (cursor !== '0' && ++rounds < 100_000);
  } finally {
    redis.disconnect();
  }
  return n;
}

/** Jobs of a BullMQ queue not yet finished (waiting, active, delayed), read straight from its keys. */
export async function pending(redis: Redis, qprefix: string, queue: string): Promise<number> {
  const [wait, active, delayed, prioritized] = await Promise.all([
    redis.llen(`${qprefix}:${queue}:wait`),
    redis.llen(`${qprefix}:${queue}:active`),
    redis.zcard(`${qprefix}:${queue}:delayed`),
    redis.zcard(`${qprefix}:${queue}:prioritized`),
  ]);
  return wait + active + delayed + prioritized;
}
