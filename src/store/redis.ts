// The one place that opens Redis connections, whatever the topology (config/redis-topology.ts), and checks that Redis
// will keep our data (design.md §2: AOF on, maxmemory-policy noeviction). BullMQ workers need maxRetriesPerRequest:
// null on their connections. On one server (REDIS_URL) a connection is opened exactly as before Sentinel and
// Cluster were added; their failover settings are in redis-failover.ts.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisTopology } from '../config/redis-topology.js';
import type { Logger } from '../log.js';
import { clusterOptions, reconnectOnReadonly, sentinelOptions } from './redis-failover.js';

const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false };

/**
 * A connection to wherever Redis is. On a Cluster it is an ioredis Cluster, typed as a Redis: the two take the same
 * commands, and every multi-key call, MULTI, pipeline and script of ours stays inside one hash tag (store/layout.ts),
 * which is what a Cluster asks. `clusterConnect` gives the Cluster its own type where that matters (WAIT).
 */
export function connect(to: RedisTopology, opts: RedisOptions = {}): Redis {
  return anyConnect(to, opts) as Redis;
}

export function isCluster(r: Redis | Cluster): r is Cluster {
  return (r as Cluster).isCluster === true;
}

function anyConnect(to: RedisTopology, opts: RedisOptions): Redis | Cluster {
  if (to.kind === 'standalone') return new Redis(to.url, { ...base, ...opts });
  const auth = definedOnly({ username: to.username, password: to.password });
  if (to.kind === 'sentinel') {
    const where = definedOnly({ sentinels: to.sentinels, name: to.name, db: to.db });
    return new Redis({ ...base, ...sentinelOptions(), ...where, ...auth, ...opts });
  }
  // Per-node settings go to redisOptions; ioredis connects cluster nodes lazily itself and retries them its own way.
  const { lazyConnect = false, ...perNode } = opts;
  const { maxRetriesPerRequest, enableReadyCheck } = base;
  return new Cluster(to.nodes, {
    ...clusterOptions(),
    lazyConnect,
    redisOptions: {
      maxRetriesPerRequest,
      enableReadyCheck,
      reconnectOnError: reconnectOnReadonly,
      ...auth,
      ...perNode,
    },
  });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
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
