// A master dies (SIGKILL) under a BullMQ queue and worker on connections from src/store/redis.ts: on a real Cluster
// and a real Sentinel group, the worker goes on after the failover, every acknowledged add is processed, none twice.
// This is the proof asked by issue 15 for the pinned BullMQ (fixes for bullmq#4378, #4479, #4585).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FailoverReport, failoverRun } from '../helpers/failover-run.js';
import { startCluster, startSentinel, type TestCluster, type TestSentinel } from '../helpers/redis-topology.js';
import { startService, testConfig, until } from '../helpers/service.js';

/** A report typed in the console, and the bot's 已登记 for it (the whole service, through its queues). */
async function registered(url: string, text: string): Promise<string> {
  const api = (path: string, body?: unknown) =>
    fetch(`${url}/console/api${path}`, {
      ...(body ? { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
  expect((await api('/messages', { as: 'wang_li', chat: 'class_xiao1', text })).status).toBe(200);
  return until(
    `已登记 for ${text}`,
    async () => {
      const { messages } = (await (await api('/messages?chat=class_xiao1')).json()) as { messages: unknown[] };
      return messages.map((m) => JSON.stringify(m)).find((m) => m.includes('已登记') && m.includes(text.slice(-4)));
    },
    30_000,
  );
}

function check(what: string, r: FailoverReport): void {
  const missing = r.acked.filter((id) => !r.deliveries.has(id));
  const twice = [...r.deliveries].filter(([, n]) => n > 1).map(([id]) => id);
  console.log(
    `[${what}] new master ${r.electedMs} ms after the SIGKILL; first job added after the kill processed at ${r.firstJobMs} ms ` +
      `(first job of any kind at ${r.firstAnyMs} ms); ${r.acked.length} adds acknowledged, ${r.failedAdds} rejected; ` +
      `${r.errors} connection errors reported; ` +
      `missing ${missing.length}, processed twice ${twice.length}`,
  );
  expect(missing).toEqual([]);
  expect(twice).toEqual([]);
  expect(r.acked.length).toBeGreaterThan(40);
}

describe('Redis Cluster: the master of the queue slot is killed', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  // The whole service from REDIS_CLUSTER_NODES alone: its keys behind the site's hash tag, its queues in 6 shards.
  it("runs the service, which answers a report after its site's master is killed too", {
    timeout: 90_000,
  }, async () => {
    const svc = await startService({
      REDIS_CLUSTER_NODES: cluster.topology.nodes.map((n) => `${n.host}:${n.port}`).join(','),
      HOUQIN_KEY_PREFIX: 'houqin-test-cluster',
      HOUQIN_CONFIG: testConfig((cfg) => {
        cfg.jobs = { menu: { enabled: false } };
      }),
    });
    try {
      await registered(svc.url, '报修 小一班 空调不制冷');
      const { port, at } = await cluster.killMasterOf('houqin-test-cluster:{t:default}:task:seq');
      await cluster.waitForNewMaster('houqin-test-cluster:{t:default}:task:seq', port);
      await registered(svc.url, '报修 小一班 水龙头漏水');
      console.log(`[cluster] the service registered a report ${Date.now() - at} ms after its site's master was killed`);
    } catch (e) {
      console.log(svc.logs.slice(-40).join('\n'));
      throw e;
    } finally {
      await svc.stop();
    }
  });

  it('keeps the worker going; every acknowledged job is processed once', { timeout: 60_000 }, async () => {
    const r = await failoverRun(cluster.topology, 'houqin-test:{q1}', {
      kill: () => cluster.killMasterOf('{q1}'),
      waitForNewMaster: (old) => cluster.waitForNewMaster('{q1}', old),
    });
    check('cluster', r);
  });
});

describe('Redis Sentinel: the master is killed', () => {
  let group: TestSentinel;
  beforeAll(async () => {
    group = await startSentinel();
  });
  afterAll(async () => {
    await group?.stop();
  });

  // The whole service, from REDIS_SENTINELS alone, before and after its master dies (the only topology it takes today).
  it('runs the service, which answers a report after the failover too', { timeout: 60_000 }, async () => {
    const svc = await startService({
      REDIS_SENTINELS: group.topology.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: group.topology.name,
      HOUQIN_KEY_PREFIX: 'houqin-test-sentinel',
      HOUQIN_CONFIG: testConfig((cfg) => {
        cfg.jobs = { menu: { enabled: false } };
      }),
    });
    try {
      await registered(svc.url, '报修 小一班 空调不制冷');
      const { port, at } = await group.killMaster();
      await group.waitForNewMaster(port);
      await registered(svc.url, '报修 小一班 水龙头漏水');
      console.log(`[sentinel] the service registered a report ${Date.now() - at} ms after its master was killed`);
    } finally {
      await svc.stop();
    }
  });

  it('keeps the worker going; every acknowledged job is processed once', { timeout: 60_000 }, async () => {
    const r = await failoverRun(group.topology, 'houqin-test:{q1}', {
      kill: () => group.killMaster(),
      waitForNewMaster: (old) => group.waitForNewMaster(old),
    });
    check('sentinel', r);
  });
});
