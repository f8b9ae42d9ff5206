// Client settings for a replicated Redis (Sentinel, Cluster), where a master can die and a replica take over. The
// rule: a client never gives up before a failover can have finished. Sentinel's default down-after-milliseconds is
// 30 s and a Cluster's cluster-node-timeout 15 s, each plus an election; the budget below is above both.
import type { ClusterOptions, RedisOptions } from 'ioredis';

/** How long a command may wait for a new master before it fails (Cluster; Sentinel commands wait without limit). */
export const FAILOVER_BUDGET_MS = 60_000;
/** Between two tries of a command whose node is gone or whose cluster is down (also the slot-refresh pace). */
const RETRY_DELAY_MS = 200;

/** Reconnect forever, 50 ms doubling to 1 s: after a failover the first try of the new master comes within 1 s. */
export function cappedBackoff(times: number): number {
  return Math.min(50 * 2 ** Math.min(times - 1, 5), 1000) + Math.floor(Math.random() * 50);
}

/**
 * A connection that survived the failover can still point at the old master, now a replica (or be sent there by a
 * stale Sentinel answer): writes then fail with READONLY. Reconnecting asks the sentinels / the cluster again, and
 * `2` resends the failed command on the new connection.
 */
export function reconnectOnReadonly(err: Error): boolean | 1 | 2 {
  return err.message.includes('READONLY') ? 2 : false;
}

export function sentinelOptions(): RedisOptions {
  return {
    retryStrategy: cappedBackoff,
    sentinelRetryStrategy: cappedBackoff,
    reconnectOnError: reconnectOnReadonly,
    // Listens for the sentinels' +switch-master and drops the old master at once instead of at the next error.
    failoverDetector: true,
  };
}

export function clusterOptions(): ClusterOptions {
  return {
    clusterRetryStrategy: cappedBackoff,
    // Off on purpose. With it on, a reconnect during the failover window (cluster_state:fail until the replica is
    // promoted) fails the ready check; ioredis then reconnects on its own, and the promise of the connect() that
    // started it never settles. BullMQ's worker awaits exactly that promise when its blocking-read watchdog fires,
    // and stopped for good (test/integration/redis-failover.test.ts, bullmq 6.7.0, ioredis 6.0.0). Without the
    // check, commands that meet CLUSTERDOWN are retried below until the new master serves the slot.
    enableReadyCheck: false,
    // CLUSTER SLOTS on 2 busy cores can take more than ioredis' 1 s default; a refresh that times out is retried.
    slotsRefreshTimeout: 2000,
    retryDelayOnFailover: RETRY_DELAY_MS,
    retryDelayOnClusterDown: RETRY_DELAY_MS,
    retryDelayOnTryAgain: RETRY_DELAY_MS,
    // Each of those tries counts as a redirection: enough of them to outlast the failover budget.
    maxRedirections: Math.ceil(FAILOVER_BUDGET_MS / RETRY_DELAY_MS),
  };
}
