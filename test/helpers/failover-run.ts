// One failover run, the same on Cluster and Sentinel: a BullMQ queue and worker on connections from our factory,
// jobs added without pause, the master killed mid-run. It records what a district deployment cares about: which adds
// were acknowledged, how often each job reached the worker, and how long the worker stood still.
import { Queue, Worker } from 'bullmq';
import type { RedisTopology } from '../../src/config/redis-topology.js';
import { connect } from '../../src/store/redis.js';
import { sleep, until } from './redis-process.js';

export interface FailoverReport {
  /** Ids whose add() resolved. */
  acked: string[];
  /** How many times each job reached the worker. */
  deliveries: Map<string, number>;
  failedAdds: number;
  /** 'error' events of the queue and the worker (connection refused, all sentinels unreachable, …). */
  errors: number;
  electedMs: number;
  /** From the kill to the first job processed that was added after it. */
  firstJobMs: number;
  /** From the kill to the first job processed at all (one already queued may come first). */
  firstAnyMs: number;
}

export interface Failover {
  kill(): Promise<{ port: number; at: number }>;
  waitForNewMaster(old: number): Promise<number>;
}

export async function failoverRun(to: RedisTopology, prefix: string, f: Failover): Promise<FailoverReport> {
  const name = 'failover';
  const queueConn = connect(to, { maxRetriesPerRequest: null });
  const workerConn = connect(to, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: queueConn, prefix });
  const deliveries = new Map<string, number>();
  const seenAt = new Map<string, number>();
  // The worker settings of src/queues/runtime.ts, so this is what the service gets, except drainDelay: BullMQ's
  // watchdog on the blocking read fires after drainDelay + 1 s, and the bugs fixed in bullmq#4378 and #4585 bite only
  // when it fires while the master is gone. A real failover (30 s) outlasts the default 6 s; this one takes 2–3 s.
  const worker = new Worker(
    name,
    async (job) => {
      deliveries.set(job.id!, (deliveries.get(job.id!) ?? 0) + 1);
      if (!seenAt.has(job.id!)) seenAt.set(job.id!, Date.now());
    },
    {
      connection: workerConn,
      prefix,
      concurrency: 4,
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 2,
      drainDelay: 1,
    },
  );
  // Connection errors while the master is gone are the point of the test: counted, not printed.
  let errors = 0;
  worker.on('error', () => errors++);
  queue.on('error', () => errors++);
  const added = new Map<string, number>(); // id → when add() was called
  let failedAdds = 0;
  let producing = true;
  const producer = (async () => {
    for (let n = 0; producing; n++) {
      const id = `j${n}`;
      const calledAt = Date.now();
      try {
        await queue.add('job', { n }, { jobId: id });
        added.set(id, calledAt);
      } catch {
        failedAdds++;
      }
      await sleep(10);
    }
  })();
  try {
    await until('20 jobs before the kill', 15_000, async () => (deliveries.size >= 20 ? true : undefined));
    const { port, at } = await f.kill();
    await f.waitForNewMaster(port);
    const electedMs = Date.now() - at;
    const after = () => [...added].filter(([id, t]) => t > at && seenAt.has(id)).map(([id]) => seenAt.get(id)!);
    await until('20 jobs added after the kill processed', 30_000, async () =>
      after().length >= 20 ? true : undefined,
    );
    producing = false;
    await producer;
    const acked = [...added.keys()];
    await until('every acknowledged job processed', 20_000, async () =>
      acked.every((id) => deliveries.has(id)) ? true : undefined,
    ).catch(() => undefined); // the caller's assertions say which are missing
    const firstAny = Math.min(...[...seenAt.values()].filter((t) => t > at));
    return {
      acked,
      deliveries,
      failedAdds,
      errors,
      electedMs,
      firstJobMs: Math.min(...after()) - at,
      firstAnyMs: firstAny - at,
    };
  } finally {
    producing = false;
    await producer;
    await Promise.race([Promise.allSettled([worker.close(), queue.close()]), sleep(5000)]);
    queueConn.disconnect();
    workerConn.disconnect();
  }
}
