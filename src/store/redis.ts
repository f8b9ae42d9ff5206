// One place that opens Redis connections and checks that Redis will keep our data (design.md §2: AOF on,
// maxmemory-policy noeviction). BullMQ workers need maxRetriesPerRequest: null on their connections.
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';

export function connect(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...opts });
}

export interface PersistenceReport {
  appendonly: string;
  policy: string;
  warnings: string[];
}

export async function checkPersistence(redis: Redis, log: Logger): Promise<PersistenceReport> {
  const warnings: string[] = [];
  let appendonly = 'unknown';
  let policy = 'unknown';
  try {
    appendonly = ((await redis.config('GET', 'appendonly')) as string[])[1] ?? 'unknown';
    policy = ((await redis.config('GET', 'maxmemory-policy')) as string[])[1] ?? 'unknown';
  } catch (e) {
    // Managed Redis often disables CONFIG; say so rather than guess.
    warnings.push(
      `cannot read Redis config (${(e as Error).message}); make sure AOF is on and maxmemory-policy is noeviction`,
    );
  }
  if (appendonly === 'no')
    warnings.push(
      'Redis runs without AOF (appendonly no): a Redis restart loses tasks, timers and queued messages. Set "appendonly yes".',
    );
  if (policy !== 'unknown' && policy !== 'noeviction')
    warnings.push(
      `Redis maxmemory-policy is "${policy}": under memory pressure Redis deletes keys, including tasks and queued jobs. Set "maxmemory-policy noeviction".`,
    );
  for (const w of warnings) log.warn({ appendonly, policy }, w);
  return { appendonly, policy, warnings };
}
