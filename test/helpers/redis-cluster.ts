// A real 6-node Redis Cluster (3 masters, 3 replicas, AOF on, cluster-node-timeout 1 s) on free ports, made by
// `redis-cli --cluster create`, with a way to SIGKILL the master of a key's slot and wait for its replica to take over.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ClusterRedis } from '../../src/config/redis-topology.js';
import { ask, freePorts, kill, type RedisProcess, removeAll, startRedis, until } from './redis-process.js';

const NODE_TIMEOUT_MS = 1000;

export interface TestCluster {
  topology: ClusterRedis;
  nodes: RedisProcess[];
  /** SIGKILLs the master serving `key`'s slot; returns its port and when it was killed. */
  killMasterOf(key: string): Promise<{ port: number; at: number }>;
  /** Waits until another node is master of `key`'s slot and the cluster says ok; returns that port. */
  waitForNewMaster(key: string, old: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

type Slots = [from: number, to: number, master: [host: string, port: number, ...rest: unknown[]], ...unknown[]][];

export async function startCluster(): Promise<TestCluster> {
  const ports = await freePorts(6);
  const nodes: RedisProcess[] = [];
  try {
    const flags = ['--cluster-enabled', 'yes', '--cluster-node-timeout', String(NODE_TIMEOUT_MS)];
    // nodes.conf goes into each node's own --dir.
    nodes.push(
      ...(await Promise.all(ports.map((p) => startRedis(p, [...flags, '--cluster-config-file', 'nodes.conf'])))),
    );
    const addrs = ports.map((p) => `127.0.0.1:${p}`);
    await promisify(execFile)(
      'redis-cli',
      ['--cluster', 'create', ...addrs, '--cluster-replicas', '1', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    await until('a healthy cluster with three synced replicas', 30_000, async () => {
      for (const p of ports) {
        if (!String(await ask(p, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return undefined;
        const info = String(await ask(p, 'INFO', 'replication'));
        if (info.includes('role:slave') && !info.includes('master_link_status:up')) return undefined;
      }
      return true;
    });
  } catch (e) {
    await removeAll(nodes);
    throw e;
  }

  const byPort = (port: number) => nodes.find((n) => n.port === port)!;
  const masterOf = async (key: string, via: number): Promise<number> => {
    const slot = Number(await ask(via, 'CLUSTER', 'KEYSLOT', key));
    const slots = (await ask(via, 'CLUSTER', 'SLOTS')) as Slots;
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return Number(range[2][1]);
  };
  const live = () => nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null).map((n) => n.port);

  return {
    topology: { kind: 'cluster', nodes: ports.map((port) => ({ host: '127.0.0.1', port })) },
    nodes,
    async killMasterOf(key) {
      const port = await masterOf(key, live()[0]);
      const at = Date.now();
      await kill(byPort(port));
      return { port, at };
    },
    async waitForNewMaster(key, old, timeoutMs = 20_000) {
      return until(`a new master for ${key}`, timeoutMs, async () => {
        for (const via of live()) {
          if (!String(await ask(via, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return undefined;
          const port = await masterOf(key, via);
          if (port === old) return undefined;
          const role = (await ask(port, 'ROLE')) as string[];
          if (role[0] !== 'master') return undefined;
        }
        return masterOf(key, live()[0]);
      });
    },
    stop: () => removeAll(nodes),
  };
}
