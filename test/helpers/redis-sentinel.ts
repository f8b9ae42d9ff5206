// A real Sentinel group (1 master, 2 replicas with AOF on, 3 sentinels; master down after 1 s) on free ports, with
// a way to SIGKILL the master and wait for the sentinels to promote a replica.
import type { SentinelRedis } from '../../src/config/redis-topology.js';
import { ask, freePorts, kill, type RedisProcess, removeAll, startRedis, until } from './redis-process.js';

export const MASTER_NAME = 'houqin-test';

export interface TestSentinel {
  topology: SentinelRedis;
  servers: RedisProcess[];
  sentinels: RedisProcess[];
  /** The port the sentinels name as master now. */
  master(): Promise<number>;
  /** SIGKILLs the current master; returns its port and when it was killed. */
  killMaster(): Promise<{ port: number; at: number }>;
  /** Waits until every live sentinel names another master and that server says it is one; returns its port. */
  waitForNewMaster(old: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startSentinel(): Promise<TestSentinel> {
  const [m, r1, r2, s1, s2, s3] = await freePorts(6);
  const all: RedisProcess[] = [];
  const servers: RedisProcess[] = [];
  const sentinels: RedisProcess[] = [];
  const addrOf = async (via: number) =>
    Number(((await ask(via, 'SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as string[])[1]);
  try {
    // Diskless sync with no delay: the replicas are in sync in milliseconds instead of after an RDB on disk.
    const sync = ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'];
    servers.push(await startRedis(m, sync));
    servers.push(
      ...(await Promise.all([r1, r2].map((p) => startRedis(p, [...sync, '--replicaof', '127.0.0.1', String(m)])))),
    );
    all.push(...servers);
    await until('two replicas in sync', 15_000, async () => {
      const info = String(await ask(m, 'INFO', 'replication'));
      return (info.match(/state=online/g) ?? []).length === 2 ? true : undefined;
    });
    for (const port of [s1, s2, s3]) {
      const conf = [
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${m} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 5000`,
        `sentinel parallel-syncs ${MASTER_NAME} 2`,
        '',
      ].join('\n');
      const p = await startRedis(port, ['--sentinel'], conf);
      sentinels.push(p);
      all.push(p);
    }
    // A failover needs a majority of sentinels that know each other and the replicas (hello messages, every 2 s).
    await until('three sentinels that know each other and both replicas', 20_000, async () => {
      for (const s of [s1, s2, s3]) {
        const fields = (await ask(s, 'SENTINEL', 'master', MASTER_NAME)) as string[];
        const f = Object.fromEntries(fields.flatMap((v, i) => (i % 2 ? [] : [[v, fields[i + 1]]])));
        if (f['num-other-sentinels'] !== '2' || f['num-slaves'] !== '2') return undefined;
      }
      return true;
    });
  } catch (e) {
    await removeAll(all);
    throw e;
  }
  const live = () => sentinels.filter((s) => s.proc.exitCode === null).map((s) => s.port);

  return {
    topology: {
      kind: 'sentinel',
      sentinels: [s1, s2, s3].map((port) => ({ host: '127.0.0.1', port })),
      name: MASTER_NAME,
    },
    servers,
    sentinels,
    master: () => addrOf(live()[0]),
    async killMaster() {
      const port = await addrOf(live()[0]);
      const at = Date.now();
      await kill(servers.find((s) => s.port === port)!);
      return { port, at };
    },
    async waitForNewMaster(old, timeoutMs = 20_000) {
      return until('the sentinels to promote a replica', timeoutMs, async () => {
        const named = await Promise.all(live().map(addrOf));
        if (named.some((p) => p === old || p !== named[0])) return undefined;
        return ((await ask(named[0], 'ROLE')) as string[])[0] === 'master' ? named[0] : undefined;
      });
    },
    stop: () => removeAll(all),
  };
}
