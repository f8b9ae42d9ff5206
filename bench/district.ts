// Part 5 (issue 15): a district on one deployment. `node bin/run-ts.mjs bench/run.ts district` (not in the default
// set: ~6 min). Three measurements, each against a floor measured in the same run (bench/README.md, "A district"):
//
// 1. rows — a district folder of BENCH_DISTRICT_SITES (20) sites served by 1 and by 3 instances (each instance a
//    `serve --role receiver` pinned to cpu 0 and a `serve --role workers` on cpu 1 at idle priority, as part 1's
//    `real`) on a real 6-node Redis Cluster (test/helpers/redis-cluster.ts), and on a private standalone Redis (the
//    floor: one instance). Signed AI-bot chatter spread round-robin over the sites and the instances: a constant rate,
//    then a closed loop. Per row: answers, latency, CPU per message (receivers, workers, every Redis server), the
//    backlog (stream + inbox queue, read every second), and the Redis connections each instance opens.
// 2. failover — one instance on the Cluster, then on a Sentinel group, a steady stream of reports (each a task);
//    the master holding a site's keys and its shard's stream (Sentinel: the master) is SIGKILLed mid-stream. From the
//    client's side: the last 200 before and the first 200 after, what was not answered 200 within WeCom's 5 s;
//    afterwards every report answered 200 must be exactly one task of its site.
// 3. memory — a private standalone Redis: used_memory of a district of 1 and of BENCH_DISTRICT_MEMORY_SITES (200)
//    idle sites, and after BENCH_DISTRICT_TASKS (2 000) reports through the service, per site and per task, with what
//    the keys hold by kind.
//
// Every Redis server here is the bench's own, on free ports (never the shared one at 6379), and is removed at the end.
import { createServer, type Server as HttpServer } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { allJobs } from '../jobs/index.js';
import { loadSettings } from '../src/config/load.js';
import type { RedisTopology } from '../src/config/redis-topology.js';
import { SchoolCalendar } from '../src/scheduler/calendar.js';
import { nextFiring } from '../src/scheduler/scheduler.js';
import { queueNames, routeQueues } from '../src/queues/names.js';
import { layout, type Layout } from '../src/store/layout.js';
import { connect } from '../src/store/redis.js';
import { startCluster, type TestCluster } from '../test/helpers/redis-cluster.js';
import { ask, freePorts, kill, type RedisProcess, removeAll, startRedis } from '../test/helpers/redis-process.js';
import { startSentinel, type TestSentinel } from '../test/helpers/redis-sentinel.js';
import { machineTicks, procTicks, waitQuiet } from './lib/cpu.js';
import { districtCallbacks, districtFolder, type DistrictFolder } from './lib/district-sites.js';
import { sleep, startServer, type Server } from './lib/proc.js';
import { pending } from './lib/redis.js';
import { closedLoop, openLoop, summarize, type LoopRecord } from './lib/raw-client.js';

type Log = (l: string) => void;

const num = (name: string, fallback: number) => Number(process.env[name] || fallback);

export interface DistrictOptions {
  sites: number;
  rate: number;
  rateSeconds: number;
  seconds: number;
  warmupSeconds: number;
  /** constant rate: connections per instance (the total is split evenly) */
  rateConnections: number;
  /** closed loop: connections in all, split evenly over the instances */
  connections: number;
  rows: RowKey[];
  failoverRate: number;
  failoverBefore: number;
  failoverAfter: number;
  memorySites: number;
  tasks: number;
  parts: ('rows' | 'failover' | 'memory')[];
  serverCpu: string;
  loadCpu: string;
  log: Log;
}

export type RowKey = 'standalone-1' | 'cluster-1' | 'cluster-3' | 'standalone-3' | 'cluster-1-nowait';

const rowSpecs: Record<RowKey, { label: string; cluster: boolean; instances: number; env?: Record<string, string> }> = {
  'standalone-1': { label: 'standalone, 1 instance (floor)', cluster: false, instances: 1 },
  'cluster-1': { label: 'Cluster, 1 instance', cluster: true, instances: 1 },
  'cluster-3': { label: 'Cluster, 3 instances', cluster: true, instances: 3 },
  'standalone-3': { label: 'standalone, 3 instances (diag.)', cluster: false, instances: 3 },
  'cluster-1-nowait': {
    label: 'Cluster, 1 inst., no WAIT (diag.)',
    cluster: true,
    instances: 1,
    env: { REDIS_WAIT_REPLICAS: '0' },
  },
};

export function defaultDistrictOptions(args: string[]): DistrictOptions {
  const arg = (k: string) => args.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  return {
    sites: num('BENCH_DISTRICT_SITES', 20),
    rate: num('BENCH_DISTRICT_RATE', 1000),
    rateSeconds: num('BENCH_RATE_SECONDS', 8),
    seconds: num('BENCH_SECONDS', 6),
    warmupSeconds: num('BENCH_WARMUP_SECONDS', 3),
    rateConnections: 30,
    connections: 48,
    rows: (arg('rows') ?? process.env.BENCH_DISTRICT_ROWS ?? 'standalone-1,cluster-1,cluster-3,standalone-3')
      .split(',')
      .filter(Boolean) as RowKey[],
    failoverRate: num('BENCH_DISTRICT_FAILOVER_RATE', 100),
    failoverBefore: 5,
    failoverAfter: num('BENCH_DISTRICT_FAILOVER_AFTER', 20),
    memorySites: num('BENCH_DISTRICT_MEMORY_SITES', 200),
    tasks: num('BENCH_DISTRICT_TASKS', 2000),
    parts: (arg('district') ?? 'rows,failover,memory').split(',').filter(Boolean) as DistrictOptions['parts'],
    serverCpu: '0',
    loadCpu: '1',
    log: (l) => process.stderr.write(l + '\n'),
  };
}

// ———————————————————————————————————————— Redis servers of our own ————————————————————————————————————————

interface Topo {
  kind: 'standalone' | 'cluster' | 'sentinel';
  topology: RedisTopology;
  /** every data server (not the sentinels), for CPU and connection counts */
  ports: number[];
  env: Record<string, string>;
  cluster?: TestCluster;
  sentinel?: TestSentinel;
  standalone?: RedisProcess;
  stop(): Promise<void>;
}

async function standaloneTopo(): Promise<Topo> {
  const [port] = await freePorts(1);
  const p = await startRedis(port, []);
  const url = `redis://127.0.0.1:${port}`;
  return {
    kind: 'standalone',
    topology: { kind: 'standalone', url },
    ports: [port],
    env: { REDIS_URL: url },
    standalone: p,
    stop: () => removeAll([p]),
  };
}

async function clusterTopo(): Promise<Topo> {
  const c = await startCluster();
  return {
    kind: 'cluster',
    topology: c.topology,
    ports: c.nodes.map((n) => n.port),
    env: { REDIS_CLUSTER_NODES: c.topology.nodes.map((n) => `${n.host}:${n.port}`).join(',') },
    cluster: c,
    stop: () => c.stop(),
  };
}

async function sentinelTopo(): Promise<Topo> {
  const s = await startSentinel();
  return {
    kind: 'sentinel',
    topology: s.topology,
    ports: s.servers.map((x) => x.port),
    env: {
      REDIS_SENTINELS: s.topology.sentinels.map((x) => `${x.host}:${x.port}`).join(','),
      REDIS_SENTINEL_NAME: s.topology.name,
    },
    sentinel: s,
    stop: () => s.stop(),
  };
}

async function info(port: number, section: string): Promise<Record<string, string>> {
  const text = String(await ask(port, 'INFO', section));
  return Object.fromEntries(
    text
      .split('\r\n')
      .filter((l) => l.includes(':') && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
  );
}

const alive = (t: Topo) =>
  t.ports.filter((p) => {
    const n = t.cluster?.nodes.find((x) => x.port === p) ?? t.sentinel?.servers.find((x) => x.port === p);
    return !n || (n.proc.exitCode === null && n.proc.signalCode === null);
  });

/** The masters now (by ROLE), of the live servers. */
async function masters(t: Topo): Promise<number[]> {
  const out: number[] = [];
  for (const p of alive(t)) if (((await ask(p, 'ROLE')) as string[])[0] === 'master') out.push(p);
  return out;
}

/** Empties our own servers between runs (never the shared one: these are on ports we started). */
async function flush(t: Topo): Promise<void> {
  for (const p of await masters(t)) {
    await ask(p, 'FLUSHALL');
    await ask(p, 'SCRIPT', 'FLUSH');
  }
}

/** The master port serving a key's slot (Cluster). */
async function masterOf(t: Topo, key: string): Promise<number> {
  const via = alive(t)[0];
  const slot = Number(await ask(via, 'CLUSTER', 'KEYSLOT', key));
  const slots = (await ask(via, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const range = slots.find(([from, to]) => slot >= from && slot <= to);
  if (!range) throw new Error(`no node serves slot ${slot}`);
  return Number(range[2][1]);
}

// ———————————————————————————————————————— the app's instances ————————————————————————————————————————

interface Instance {
  receiver: Server;
  workers: Server;
}

function appEnv(t: Topo, prefix: string, dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...t.env,
    HOUQIN_CONFIG: dir,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_VOCABULARY: `${dir}/data/vocabulary.yaml`,
    HOUQIN_MEDIA_DIR: `${dir}/media`,
    ...extra,
  };
}

async function startInstances(n: number, env: Record<string, string>, o: DistrictOptions): Promise<Instance[]> {
  const out: Instance[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const receiver = await startServer(
        `district-r${i}`,
        ['bin/houqin.mjs', 'serve', '--role', 'receiver'],
        env,
        o.serverCpu,
        60_000,
      );
      // At idle priority beside the load generator, as part 1's `real` (bench/README.md).
      const workers = await startServer(
        `district-w${i}`,
        ['bin/houqin.mjs', 'serve', '--role', 'workers'],
        env,
        o.loadCpu,
        60_000,
        'idle',
      );
      out.push({ receiver, workers });
    }
  } catch (e) {
    await stopInstances(out);
    throw e;
  }
  return out;
}

async function stopInstances(list: Instance[]): Promise<void> {
  await Promise.all(list.flatMap((i) => [i.receiver.stop(), i.workers.stop()]));
}

const warningsOf = (list: Instance[]) => list.reduce((n, i) => n + i.receiver.warnings() + i.workers.warnings(), 0);

/** The warn/error log lines the instances kept (their last BENCH_LOG_LINES), by message, most frequent first. */
function warningTexts(list: Instance[]): string {
  const by = new Map<string, number>();
  for (const s of list.flatMap((i) => [i.receiver, i.workers]))
    for (const line of s.logs) {
      try {
        const j = JSON.parse(line) as { level?: number; msg?: string; err?: string };
        if ((j.level ?? 0) < 40) continue;
        const text = `${j.msg}${j.err ? `: ${String(j.err).slice(0, 80)}` : ''}`;
        by.set(text, (by.get(text) ?? 0) + 1);
      } catch {
        // not a JSON log line (a stack trace's continuation): counted by warnings() already
      }
    }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([t, n]) => `${n}× "${t}"`)
    .join('; ');
}

/** The district's layout, as the service computes it (load.ts layoutOf): 6 shards on a Cluster, 1 elsewhere. */
function districtLayout(t: Topo, prefix: string, env: Record<string, string> = {}): Layout {
  const shards = env.HOUQIN_SHARDS ? Number(env.HOUQIN_SHARDS) : t.kind === 'cluster' ? 6 : 1;
  return layout({ base: prefix, tagged: true, shards });
}

/** Messages taken but not yet handled: in the shards' streams, or unfinished inbox jobs. */
async function backlog(conn: Redis, lay: Layout): Promise<number> {
  let n = 0;
  for (let s = 0; s < lay.shards; s++) {
    n += await conn.xlen(`${lay.ingress(s)}:ingress`);
    n += await pending(conn, `${lay.base}:q`, lay.queue(queueNames.inbox, s));
  }
  return n;
}

/** Jobs kept failed in any queue, and entries the workers could not read. */
async function failures(conn: Redis, lay: Layout): Promise<number> {
  let n = 0;
  const names = [queueNames.inbox, queueNames.outbox, queueNames.timers, ...routeQueues, 'scheduled'];
  for (let s = 0; s < lay.shards; s++) {
    for (const q of names) n += await conn.zcard(`${lay.base}:q:${lay.queue(q, s)}:failed`);
    n += await conn.llen(`${lay.ingress(s)}:ingress:unreadable`);
  }
  return n;
}

async function drain(
  conn: Redis,
  lay: Layout,
  maxMs: number,
  also?: () => Promise<number>,
): Promise<number | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    if ((await backlog(conn, lay)) + ((await also?.()) ?? 0) === 0) return (Date.now() - t0) / 1000;
    await sleep(100);
  }
  return undefined;
}

// ———————————————————————————————————————— CPU ————————————————————————————————————————

interface CpuSplit {
  wall: number;
  /** CPU seconds */
  receivers: number;
  workers: number;
  redis: Map<number, number>;
  client: number;
  other: number;
}

async function redisCpu(ports: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const p of ports) {
    const i = await info(p, 'cpu');
    out.set(p, Number(i.used_cpu_sys) + Number(i.used_cpu_user));
  }
  return out;
}

async function meter(list: Instance[], ports: number[]): Promise<{ stop(): Promise<CpuSplit> }> {
  const ticks = (pids: (number | undefined)[]) => pids.reduce<number>((n, p) => n + (p ? (procTicks(p) ?? 0) : 0), 0);
  const rp = list.map((i) => i.receiver.proc.pid);
  const wp = list.map((i) => i.workers.proc.pid);
  const t0 = performance.now();
  const [r0, w0, c0, m0] = [ticks(rp), ticks(wp), procTicks('self') ?? 0, machineTicks()];
  const x0 = await redisCpu(ports);
  return {
    async stop() {
      const wall = (performance.now() - t0) / 1000;
      const [r1, w1, c1, m1] = [ticks(rp), ticks(wp), procTicks('self') ?? 0, machineTicks()];
      const x1 = await redisCpu(ports);
      const redis = new Map([...x1].map(([p, v]) => [p, v - (x0.get(p) ?? v)]));
      const sec = (a: number, b: number) => (b - a) / 100;
      const split = {
        wall,
        receivers: sec(r0, r1),
        workers: sec(w0, w1),
        redis,
        client: sec(c0, c1),
        other: 0,
      };
      const ours = split.receivers + split.workers + split.client + [...redis.values()].reduce((a, b) => a + b, 0);
      split.other = Math.max(0, sec(m0, m1) - ours);
      return split;
    },
  };
}

// ———————————————————————————————————————— 1. the rows ————————————————————————————————————————

interface Phase {
  ok: number;
  sent: number;
  non200: number;
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  late: number;
  /** answers that took REDIS_WAIT_MS (200 ms) or more: a hand-off whose WAIT for a replica ran out takes that long */
  slow: number;
  cpu: CpuSplit;
  /** backlog read every second during a constant-rate run: the largest, and at its end */
  backlogMax?: number;
  backlogEnd: number;
  drainSeconds?: number;
  ranOut?: boolean;
}

export interface Row {
  key: RowKey;
  label: string;
  instances: number;
  fixed?: Phase;
  closed?: Phase;
  /** connections each instance opened, per Redis server (after − before, divided by the instances) */
  connections?: Map<number, number>;
  masters?: number[];
  /** 3 s with no traffic */
  idle?: CpuSplit;
  failures?: number;
  warnings: number;
  warningTexts?: string;
  error?: string;
}

const us = (sec: number, msgs: number) => (msgs ? (sec * 1e6) / msgs : NaN);
const redisSum = (c: CpuSplit) => [...c.redis.values()].reduce((a, b) => a + b, 0);

async function measureRow(key: RowKey, t: Topo, sites: DistrictFolder, o: DistrictOptions): Promise<Row> {
  const spec = rowSpecs[key];
  const row: Row = { key, label: spec.label, instances: spec.instances, warnings: 0 };
  const prefix = `bench-district-${key}`;
  const env = appEnv(t, prefix, sites.dir, spec.env);
  const lay = districtLayout(t, prefix, env);
  const conn = connect(t.topology, { maxRetriesPerRequest: 3 });
  conn.on('error', () => undefined);
  let list: Instance[] = [];
  try {
    await flush(t);
    const clients0 = new Map<number, number>();
    for (const p of t.ports) clients0.set(p, Number((await info(p, 'clients')).connected_clients));
    o.log(`[district] ${key}: starting ${spec.instances} instance(s) on ${t.kind} Redis`);
    list = await startInstances(spec.instances, env, o);
    await sleep(2000);
    row.masters = await masters(t);
    row.connections = new Map();
    for (const p of t.ports)
      row.connections.set(
        p,
        (Number((await info(p, 'clients')).connected_clients) - clients0.get(p)!) / spec.instances,
      );
    // What the instances and Redis spend with no message at all (BullMQ's blocking reads and stalled-job checks,
    // the pumps' reads of every shard): a cost per instance, whatever the traffic.
    const idle = await meter(list, t.ports);
    await sleep(3000);
    row.idle = await idle.stop();
    const ports = list.map((i) => i.receiver.port);
    const perInst = (total: number) => Math.max(1, Math.round(total / spec.instances));
    const chatter = (n: number) => districtCallbacks(sites.sites, n, { content: '谢谢李师傅！' });

    // Warm-up, not reported.
    await openLoop({
      ports,
      requests: chatter(o.rate * o.warmupSeconds),
      rate: o.rate,
      seconds: o.warmupSeconds,
      connections: perInst(o.rateConnections),
    });
    await drain(conn, lay, 30_000);

    // Constant rate, with the backlog read every second.
    const fixedReqs = chatter(Math.ceil(o.rate * o.rateSeconds));
    const busy = await waitQuiet(10_000);
    o.log(`[district] ${key}: ${o.rate}/s for ${o.rateSeconds}s (machine ${busy.toFixed(0)}% busy before)`);
    let sampling = true;
    let backlogMax = 0;
    const sampler = (async () => {
      while (sampling) {
        await sleep(1000);
        if (sampling) backlogMax = Math.max(backlogMax, await backlog(conn, lay));
      }
    })();
    let m = await meter(list, t.ports);
    const fixed = await openLoop({
      ports,
      requests: fixedReqs,
      rate: o.rate,
      seconds: o.rateSeconds,
      connections: perInst(o.rateConnections),
    });
    let cpu = await m.stop();
    sampling = false;
    await sampler;
    const fEnd = await backlog(conn, lay);
    row.fixed = {
      ...phase(fixed, cpu),
      backlogMax: Math.max(backlogMax, fEnd),
      backlogEnd: fEnd,
      drainSeconds: await drain(conn, lay, 60_000),
    };

    // Closed loop.
    const closedReqs = chatter(num('BENCH_DISTRICT_CLOSED_REQUESTS', 120_000));
    await waitQuiet(10_000);
    o.log(`[district] ${key}: closed loop, ${o.connections} connections, ${o.seconds}s`);
    m = await meter(list, t.ports);
    const closed = await closedLoop({
      ports,
      requests: closedReqs,
      seconds: o.seconds,
      connections: perInst(o.connections),
    });
    cpu = await m.stop();
    const cEnd = await backlog(conn, lay);
    row.closed = { ...phase(closed, cpu), backlogEnd: cEnd, ranOut: closed.ranOut };
    row.closed.drainSeconds = await drain(conn, lay, 180_000);
    row.failures = await failures(conn, lay);
    o.log(
      `[district] ${key}: p99 ${row.fixed.p99.toFixed(2)} ms at ${o.rate}/s; ${row.closed.rps.toFixed(0)}/s closed loop`,
    );
  } catch (e) {
    row.error = (e as Error).message;
    o.log(`[district] ${key}: FAILED ${row.error}`);
  } finally {
    row.warnings = warningsOf(list);
    row.warningTexts = warningTexts(list);
    await stopInstances(list);
    conn.disconnect();
  }
  return row;
}

function phase(r: LoopRecord, cpu: CpuSplit): Omit<Phase, 'backlogEnd'> {
  const s = summarize(r);
  let slow = 0;
  for (let k = 0; k < r.count; k++) if (r.doneAt[k] - r.sentAt[k] >= 200) slow++;
  return {
    slow,
    ok: s.ok,
    sent: s.sent,
    non200: s.non200,
    rps: s.rps,
    p50: s.p50,
    p99: s.p99,
    p999: s.p999,
    late: r.late,
    cpu,
  };
}

// ———————————————————————————————————————— 2. failover ————————————————————————————————————————

export interface FailoverResult {
  kind: 'cluster' | 'sentinel';
  killedPort?: number;
  electedMs?: number;
  /** sites whose shard stream, and whose own keys, were on the killed master */
  shardSites: number;
  keySites: number;
  groups: {
    name: string;
    sent: number;
    ok: number;
    non200: number;
    statuses: string;
    /** the longest stretch without a 200 around the kill: its last 200 before and first 200 after (ms from the kill) */
    lastBefore?: number;
    firstAfter?: number;
    /** the first 200 to a request sent after the kill (ms from the kill), and the longest a 200 took */
    firstNewAck?: number;
    slowestOk: number;
  }[];
  acked: number;
  withTask: number;
  missing: string[];
  /** distinct tasks the acknowledged reports became; tasks in all; tasks of reports not answered 200 */
  distinctTasks: number;
  tasksTotal: number;
  tasksOfUnacked: number;
  drainSeconds?: number;
  failures: number;
  warnings: number;
  warningTexts?: string;
  error?: string;
}

/** A stand-in for WeCom's response_url: answers every reply as WeCom does. */
async function replySink(): Promise<{ server: HttpServer; port: number; count: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      res.setHeader('content-type', 'application/json');
      res.end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, count: () => n };
}

async function measureFailover(t: Topo, sites: DistrictFolder, o: DistrictOptions): Promise<FailoverResult> {
  const kind = t.kind as 'cluster' | 'sentinel';
  const res: FailoverResult = {
    kind,
    shardSites: 0,
    keySites: 0,
    groups: [],
    acked: 0,
    withTask: 0,
    missing: [],
    distinctTasks: 0,
    tasksTotal: 0,
    tasksOfUnacked: 0,
    failures: 0,
    warnings: 0,
  };
  const prefix = `bench-district-failover-${kind}`;
  const env = appEnv(t, prefix, sites.dir);
  const lay = districtLayout(t, prefix);
  const sink = await replySink();
  const conn = connect(t.topology, { maxRetriesPerRequest: null });
  conn.on('error', () => undefined);
  let list: Instance[] = [];
  try {
    await flush(t);
    // The victim: on a Cluster the master holding both a site's own keys and its shard's stream (the first such
    // site); on Sentinel the master.
    let victim: number;
    const onVictim = new Set<number>();
    if (t.cluster) {
      const shardMaster = await Promise.all(
        sites.sites.map((s) => masterOf(t, `${lay.ingress(lay.shardOf(s.id))}:ingress`)),
      );
      const keyMaster = await Promise.all(sites.sites.map((s) => masterOf(t, `${lay.site(s.id)}:task:seq`)));
      const i = sites.sites.findIndex((_, k) => shardMaster[k] === keyMaster[k]);
      victim = shardMaster[Math.max(0, i)];
      sites.sites.forEach((_, k) => shardMaster[k] === victim && onVictim.add(k));
      res.shardSites = onVictim.size;
      res.keySites = keyMaster.filter((p) => p === victim).length;
    } else {
      victim = await t.sentinel!.master();
      sites.sites.forEach((_, k) => onVictim.add(k));
      res.shardSites = res.keySites = sites.sites.length;
    }
    o.log(`[district] failover on ${kind}: starting one instance`);
    list = await startInstances(1, env, o);
    const total = Math.ceil(o.failoverRate * (o.failoverBefore + o.failoverAfter));
    const reqs = districtCallbacks(sites.sites, total, {
      content: '报修 小一班 空调不制冷',
      responseUrl: (i) => `http://127.0.0.1:${sink.port}/cgi-bin/aibot/response?response_code=fo${i}`,
    });
    // Warm the instance on a few reports first (not counted).
    const warm = districtCallbacks(sites.sites, sites.sites.length * 2, {
      content: '报修 小二班 灯不亮',
      responseUrl: (i) => `http://127.0.0.1:${sink.port}/cgi-bin/aibot/response?response_code=w${i}`,
    });
    await openLoop({ ports: [list[0].receiver.port], requests: warm, rate: 50, seconds: 1, connections: 8 });
    await drain(conn, lay, 30_000);

    let killedAt = 0;
    const killer = (async () => {
      await sleep(o.failoverBefore * 1000);
      o.log(`[district] failover on ${kind}: SIGKILL the master on port ${victim}`);
      killedAt = performance.now();
      const node = (t.cluster?.nodes ?? t.sentinel!.servers).find((n) => n.port === victim)!;
      await kill(node);
      res.killedPort = victim;
      try {
        if (t.cluster) {
          const key = `${lay.ingress(lay.shardOf(sites.sites[[...onVictim][0]].id))}:ingress`;
          await t.cluster.waitForNewMaster(key, victim, 30_000);
        } else await t.sentinel!.waitForNewMaster(victim, 30_000);
        res.electedMs = performance.now() - killedAt;
      } catch (e) {
        o.log(`[district] failover on ${kind}: ${(e as Error).message}`);
      }
    })();
    // Enough connections that no request waits for one while the master is gone (rate × WeCom's 5 s).
    const rec = await openLoop({
      ports: [list[0].receiver.port],
      requests: reqs,
      rate: o.failoverRate,
      seconds: o.failoverBefore + o.failoverAfter,
      connections: Math.ceil(o.failoverRate * 5) + 16,
      timeoutMs: 5000,
    });
    await killer;

    const group = (name: string, pick: (k: number) => boolean) => {
      const ks = Array.from({ length: rec.count }, (_, k) => k).filter((k) => pick(reqs[k].site));
      const oks = ks.filter((k) => rec.status[k] === 200);
      const acks = oks.map((k) => rec.doneAt[k]).sort((a, b) => a - b);
      // The longest stretch without a 200 that covers the kill (or starts after it).
      let lastBefore: number | undefined;
      let firstAfter: number | undefined;
      for (let i = 1; i < acks.length; i++) {
        if (acks[i] < killedAt) continue;
        const gap = acks[i] - acks[i - 1];
        if (firstAfter === undefined || gap > firstAfter - lastBefore!) {
          lastBefore = acks[i - 1];
          firstAfter = acks[i];
        }
      }
      const newAcks = oks.filter((k) => rec.sentAt[k] > killedAt).map((k) => rec.doneAt[k]);
      const statuses = new Map<number, number>();
      for (const k of ks)
        if (rec.status[k] !== 200) statuses.set(rec.status[k], (statuses.get(rec.status[k]) ?? 0) + 1);
      res.groups.push({
        name,
        sent: ks.length,
        ok: oks.length,
        non200: ks.length - oks.length,
        statuses: [...statuses].map(([s, n]) => `${s === 0 ? 'no answer in 5 s' : s}: ${n}`).join(', '),
        lastBefore: lastBefore === undefined ? undefined : lastBefore - killedAt,
        firstAfter: firstAfter === undefined ? undefined : firstAfter - killedAt,
        firstNewAck: newAcks.length ? Math.min(...newAcks) - killedAt : undefined,
        slowestOk: Math.max(0, ...oks.map((k) => rec.doneAt[k] - rec.sentAt[k])),
      });
    };
    group(t.cluster ? 'sites whose shard was on the killed master' : 'all sites', (s) => onVictim.has(s));
    if (t.cluster) group('the other sites', (s) => !onVictim.has(s));

    // Every report answered 200 must be exactly one task of its site.
    res.drainSeconds = await drain(conn, lay, 90_000);
    res.failures = await failures(conn, lay);
    const taskOf = new Map<number, string | null>();
    const bySite = new Map<number, number[]>();
    for (let k = 0; k < rec.count; k++) bySite.set(reqs[k].site, [...(bySite.get(reqs[k].site) ?? []), k]);
    const distinct = new Set<string>();
    for (const [site, ks] of bySite) {
      const base = lay.site(sites.sites[site].id);
      // One site's keys share one slot, so one pipeline per site is fine on a Cluster.
      const p = conn.pipeline();
      for (const k of ks) p.get(`${base}:msgtask:wecom:aibot:${reqs[k].msgid}`);
      p.get(`${base}:task:seq`);
      const got = ((await p.exec()) ?? []).map(([, v]) => v as string | null);
      ks.forEach((k, i) => taskOf.set(k, got[i]));
      res.tasksTotal += Number(got.at(-1) ?? 0) - 2; // the two warm-up reports of each site
    }
    for (let k = 0; k < rec.count; k++) {
      const task = taskOf.get(k);
      if (rec.status[k] === 200) {
        res.acked++;
        if (task) {
          res.withTask++;
          distinct.add(`${reqs[k].site}#${task}`);
        } else res.missing.push(`${sites.sites[reqs[k].site].id}/${reqs[k].msgid}`);
      } else if (task) res.tasksOfUnacked++;
    }
    res.distinctTasks = distinct.size;
    o.log(
      `[district] failover on ${kind}: ${res.acked} acknowledged, ${res.withTask} with a task, ${res.tasksTotal} tasks`,
    );
  } catch (e) {
    res.error = (e as Error).message;
    o.log(`[district] failover on ${kind}: FAILED ${res.error}`);
  } finally {
    res.warnings = warningsOf(list);
    res.warningTexts = warningTexts(list);
    await stopInstances(list);
    conn.disconnect();
    sink.server.close();
  }
  return res;
}

// ———————————————————————————————————————— 3. memory ————————————————————————————————————————

export interface MemoryResult {
  sites: number;
  tasks: number;
  /** used_memory (bytes) with no service yet, and after the service stopped: 1 site, N idle sites, N sites + tasks */
  empty: number;
  one: number;
  idle: number;
  withTasks: number;
  keysOne: number;
  keysIdle: number;
  keysTasks: number;
  /** used_memory while the N-site district runs, before any message (its connections included) */
  running: number;
  /** MEMORY USAGE summed by kind of key: idle district, and after the tasks */
  kindsIdle: Map<string, number>;
  kindsTasks: Map<string, number>;
  acked: number;
  tasksMade: number;
  replies: number;
  /** the service's process: ms from its start to listening, its resident memory, its Redis connections (1 / N sites) */
  startMs: [number, number];
  rssMb: [number, number];
  clients: [number, number];
  /** scheduled firings one site of the folder adds in the next 31 days (each a job kept 31 days: scheduler.ts) */
  firingsPerMonth: number;
  error?: string;
}

/** What a key is, for the memory table. */
function kindOf(key: string): string {
  if (/:\{t:[^}]+\}:task:\d+$/.test(key)) return 'task hash';
  if (/:\{t:[^}]+\}:task:\d+:log$/.test(key)) return 'task history';
  if (/:\{t:[^}]+\}:msgtask:/.test(key)) return 'message → task';
  if (/:\{t:[^}]+\}:/.test(key)) return "the site's other keys";
  if (/:\{in:\d+\}:seen:/.test(key)) return 'received ids (1 day)';
  if (/:\{in:\d+\}:nonce:/.test(key)) return 'replay marks';
  if (/:\{in:\d+\}:/.test(key)) return 'received-message streams';
  const q = /:q:\{([a-z]+)-\d+\}:(.*)$/.exec(key);
  if (q) {
    const [, name, rest] = q;
    if (rest === 'events') return `queue ${name}: events stream`;
    if (
      /^(wait|active|paused|delayed|prioritized|completed|failed|id|meta|stalled-check|marker|pc|limiter|stalled|de:.*|repeat.*)$/.test(
        rest,
      )
    )
      return `queue ${name}: lists`;
    return `queue ${name}: jobs`;
  }
  return 'other';
}

async function kinds(port: number): Promise<{ keys: number; by: Map<string, number> }> {
  const by = new Map<string, number>();
  let cursor = '0';
  let keys = 0;
  const r = connect({ kind: 'standalone', url: `redis://127.0.0.1:${port}` }, { maxRetriesPerRequest: 3 });
  try {
    do {
      const [next, found] = await r.scan(cursor, 'COUNT', 1000);
      cursor = next;
      const p = r.pipeline();
      for (const k of found) p.memory('USAGE', k, 'SAMPLES', 0);
      const sizes = (await p.exec()) ?? [];
      found.forEach((k, i) => {
        keys++;
        by.set(kindOf(k), (by.get(kindOf(k)) ?? 0) + Number(sizes[i]?.[1] ?? 0));
      });
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return { keys, by };
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The firings of one site of the folder (they are all alike) in the next 31 days, by its calendar. */
function firingsPerMonth(dir: string): number {
  const { config } = loadSettings({ HOUQIN_VOCABULARY: `${dir}/data/vocabulary.yaml` }, dir).sites[0];
  const calendar = new SchoolCalendar(config.calendar, config.org.timezone);
  const end = Date.now() + 31 * 86_400_000;
  let n = 0;
  for (const job of allJobs(config).filter((j) => config.jobs[j.name]?.enabled !== false))
    for (
      let at = nextFiring(job, calendar, Date.now());
      at !== undefined && at < end;
      at = nextFiring(job, calendar, at)
    )
      n++;
  return n;
}

async function measureMemory(o: DistrictOptions): Promise<MemoryResult> {
  const res: MemoryResult = {
    sites: o.memorySites,
    tasks: o.tasks,
    empty: 0,
    one: 0,
    idle: 0,
    withTasks: 0,
    keysOne: 0,
    keysIdle: 0,
    keysTasks: 0,
    running: 0,
    kindsIdle: new Map(),
    kindsTasks: new Map(),
    acked: 0,
    tasksMade: 0,
    replies: 0,
    startMs: [0, 0],
    rssMb: [0, 0],
    clients: [0, 0],
    firingsPerMonth: 0,
  };
  const t = await standaloneTopo();
  const port = t.ports[0];
  const used = async () => Number((await info(port, 'memory')).used_memory);
  const dbsize = async () => Number(await ask(port, 'DBSIZE'));
  const prefix = 'bench-district-memory';
  const one = districtFolder(1);
  const many = districtFolder(o.memorySites);
  const sink = await replySink();
  const conn = connect(t.topology, { maxRetriesPerRequest: 3 });
  let server: Server | undefined;
  // One process (`serve --role all`): where the keys come from does not matter here, only what they hold.
  const start = async (dir: string, i?: 0 | 1) => {
    const t0 = performance.now();
    const srv = await startServer(
      'district-memory',
      ['bin/houqin.mjs', 'serve', '--role', 'all'],
      appEnv(t, prefix, dir),
      o.serverCpu,
      120_000,
    );
    if (i !== undefined) {
      res.startMs[i] = performance.now() - t0;
      await sleep(3000);
      res.rssMb[i] = rssMb(srv.proc.pid!);
      res.clients[i] = Number((await info(port, 'clients')).connected_clients) - 1; // less the INFO's own
    }
    return srv;
  };
  try {
    await flush(t);
    res.empty = await used();
    o.log('[district] memory: a district of 1 site, idle');
    server = await start(one.dir, 0);
    await server.stop();
    res.one = await used();
    res.keysOne = await dbsize();

    await flush(t);
    o.log(`[district] memory: a district of ${o.memorySites} sites, idle`);
    server = await start(many.dir, 1);
    res.running = await used();
    await server.stop();
    res.idle = await used();
    res.keysIdle = await dbsize();
    res.kindsIdle = (await kinds(port)).by;

    o.log(`[district] memory: ${o.tasks} reports through the service, spread over the ${o.memorySites} sites`);
    server = await start(many.dir);
    const reqs = districtCallbacks(many.sites, o.tasks, {
      content: '报修 小一班 空调不制冷',
      responseUrl: (i) => `http://127.0.0.1:${sink.port}/cgi-bin/aibot/response?response_code=m${i}`,
    });
    const rec = await openLoop({
      ports: [server.port],
      requests: reqs,
      rate: 200,
      seconds: o.tasks / 200,
      connections: 16,
    });
    res.acked = summarize(rec).ok;
    const lay = districtLayout(t, prefix);
    // Until every message is handled and every reply sent.
    await drain(conn, lay, 120_000, () => pending(conn, `${prefix}:q`, lay.queue(queueNames.outbox, 0)));
    await sleep(1000);
    await server.stop();
    server = undefined;
    for (const s of many.sites) res.tasksMade += Number((await conn.get(`${lay.site(s.id)}:task:seq`)) ?? 0);
    res.replies = sink.count();
    res.withTasks = await used();
    res.keysTasks = await dbsize();
    res.kindsTasks = (await kinds(port)).by;
    res.firingsPerMonth = firingsPerMonth(many.dir);
  } catch (e) {
    res.error = (e as Error).message;
    o.log(`[district] memory: FAILED ${res.error}`);
  } finally {
    await server?.stop();
    conn.disconnect();
    sink.server.close();
    await t.stop();
    rmSync(one.dir, { recursive: true, force: true });
    rmSync(many.dir, { recursive: true, force: true });
  }
  return res;
}

// ———————————————————————————————————————— the whole part ————————————————————————————————————————

export interface DistrictResult {
  o: DistrictOptions;
  rows: Row[];
  /** which port was which, for the per-server columns */
  clusterPorts: number[];
  failovers: FailoverResult[];
  memory?: MemoryResult;
}

export async function benchDistrict(o: DistrictOptions): Promise<DistrictResult> {
  const out: DistrictResult = { o, rows: [], clusterPorts: [], failovers: [] };
  const sites = districtFolder(o.sites);
  try {
    if (o.parts.includes('rows') || o.parts.includes('failover')) {
      let standalone: Topo | undefined;
      let cluster: Topo | undefined;
      try {
        if (o.parts.includes('rows')) {
          o.log('[district] starting a private standalone Redis and a 6-node Redis Cluster');
          standalone = await standaloneTopo();
        }
        cluster = await clusterTopo();
        out.clusterPorts = cluster.ports;
        if (o.parts.includes('rows'))
          for (const key of o.rows) {
            if (!rowSpecs[key]) throw new Error(`unknown district row ${key} (${Object.keys(rowSpecs).join(', ')})`);
            out.rows.push(await measureRow(key, rowSpecs[key].cluster ? cluster : standalone!, sites, o));
          }
        if (o.parts.includes('failover')) out.failovers.push(await measureFailover(cluster, sites, o));
      } finally {
        await standalone?.stop();
        await cluster?.stop();
      }
      if (o.parts.includes('failover')) {
        o.log('[district] starting a Sentinel group');
        const sentinel = await sentinelTopo();
        try {
          out.failovers.push(await measureFailover(sentinel, sites, o));
        } finally {
          await sentinel.stop();
        }
      }
    }
    if (o.parts.includes('memory')) out.memory = await measureMemory(o);
  } finally {
    rmSync(sites.dir, { recursive: true, force: true });
  }
  return out;
}

// ———————————————————————————————————————— the table ————————————————————————————————————————

const f = (n: number | undefined, d = 0) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(d));
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

export function districtTable(r: DistrictResult): string[] {
  const { o } = r;
  const out: string[] = [];
  if (r.rows.length) {
    out.push(
      `5. A district (issue 15): ${o.sites} sites in one folder; signed AI-bot chatter spread round-robin over the sites and the instances`,
      `   each instance = serve --role receiver (cpu ${o.serverCpu}) + serve --role workers (cpu ${o.loadCpu}, idle priority); Redis: a private standalone server, or a 6-node Cluster (3 masters, 3 replicas, AOF), unpinned`,
      `   constant rate: ${o.rate}/s for ${o.rateSeconds}s over ${o.rateConnections} connections · closed loop: ${o.connections} connections for ${o.seconds}s · the bench's own client (bench/lib/raw-client.ts) on cpu ${o.loadCpu}`,
      '',
    );
    const h1 = `${pad('', 33)} │ ${pad(`constant ${o.rate}/s`, 71)} │ closed loop`;
    const h2 =
      `${pad('row', 33)} │ ${lpad('200s', 6)} ${lpad('non200', 6)} ${lpad('p50 ms', 6)} ${lpad('p99 ms', 6)} ${lpad('p99.9', 6)} ${lpad('late', 4)} ${lpad('≥200ms', 6)} ${lpad('recv µs', 7)} ${lpad('wk µs', 6)} ${lpad('redis µs', 8)} ${lpad('backlog', 7)} │ ` +
      `${lpad('msg/s', 6)} ${lpad('p50 ms', 6)} ${lpad('p99 ms', 6)} ${lpad('recv µs', 7)} ${lpad('wk µs', 6)} ${lpad('redis µs', 8)} ${lpad('behind', 6)} ${lpad('drain s', 7)} ${lpad('client%', 7)} ${lpad('other%', 6)}`;
    out.push(h1, h2, '─'.repeat(h2.length));
    for (const row of r.rows) {
      const a = row.fixed;
      const c = row.closed;
      if (row.error && !a) {
        out.push(`${pad(row.label, 33)} │ FAILED: ${row.error.split('\n')[0]}`);
        continue;
      }
      out.push(
        `${pad(row.label, 33)} │ ${lpad(f(a?.ok), 6)} ${lpad(f(a?.non200), 6)} ${lpad(f(a?.p50, 2), 6)} ${lpad(f(a?.p99, 2), 6)} ${lpad(f(a?.p999, 2), 6)} ${lpad(f(a?.late), 4)} ${lpad(f(a?.slow), 6)} ` +
          `${lpad(f(a && us(a.cpu.receivers, a.ok)), 7)} ${lpad(f(a && us(a.cpu.workers, a.ok)), 6)} ${lpad(f(a && us(redisSum(a.cpu), a.ok)), 8)} ${lpad(a ? `${a.backlogMax}/${a.backlogEnd}` : '—', 7)} │ ` +
          `${lpad(f(c?.rps), 6)} ${lpad(f(c?.p50, 2), 6)} ${lpad(f(c?.p99, 2), 6)} ${lpad(f(c && us(c.cpu.receivers, c.ok)), 7)} ${lpad(f(c && us(c.cpu.workers, c.ok)), 6)} ${lpad(f(c && us(redisSum(c.cpu), c.ok)), 8)} ` +
          `${lpad(f(c?.backlogEnd), 6)} ${lpad(f(c?.drainSeconds, 1), 7)} ${lpad(f(c && (c.cpu.client / c.cpu.wall) * 100), 7)} ${lpad(f(c && (c.cpu.other / c.cpu.wall) * 100), 6)}`,
      );
    }
    out.push('');
    const floor = r.rows.find((x) => x.key === 'standalone-1' && x.fixed && x.closed);
    const ratio = (a?: number, b?: number) => (a !== undefined && b ? (a / b).toFixed(2) : '—');
    const appUs = (p?: Phase) => p && us(p.cpu.receivers + p.cpu.workers, p.ok);
    const allUs = (p?: Phase) => p && us(p.cpu.receivers + p.cpu.workers + redisSum(p.cpu), p.ok);
    for (const row of r.rows) {
      if (row === floor || !floor) continue;
      out.push(
        `   ${row.key} / floor: closed-loop msg/s ${ratio(row.closed?.rps, floor.closed!.rps)} · p50 at ${o.rate}/s ${ratio(row.fixed?.p50, floor.fixed!.p50)} · p99 ${ratio(row.fixed?.p99, floor.fixed!.p99)} · ` +
          `app CPU per message (receivers + workers) ${ratio(appUs(row.fixed), appUs(floor.fixed))} at ${o.rate}/s, ${ratio(appUs(row.closed), appUs(floor.closed))} closed · ` +
          `with Redis ${ratio(allUs(row.fixed), allUs(floor.fixed))} at ${o.rate}/s`,
      );
    }
    for (const row of r.rows) {
      const problems: string[] = [];
      if (row.error) problems.push(row.error.split('\n')[0]);
      if (row.fixed?.non200) problems.push(`${row.fixed.non200} of the constant-rate callbacks not answered 200`);
      if (row.closed?.non200) problems.push(`${row.closed.non200} of the closed loop's not answered 200`);
      if (row.closed?.ranOut) problems.push('the closed loop ran out of requests (BENCH_DISTRICT_CLOSED_REQUESTS)');
      if (row.closed && row.closed.drainSeconds === undefined) problems.push('the backlog did not drain in 180 s');
      if (row.failures) problems.push(`${row.failures} jobs failed or entries unreadable`);
      out.push(
        `   ${row.key}: ${problems.length ? `PROBLEMS: ${problems.join('; ')}` : 'every callback answered 200, every message handled, no job failed'}` +
          `${row.warnings ? `; ${row.warnings} warn/error log lines (${row.warningTexts})` : ''}`,
      );
    }
    const pct = (sec: number, c: CpuSplit) => f((sec / c.wall) * 100, 1);
    for (const row of r.rows.filter((x) => x.idle))
      out.push(
        `   ${row.key}: with no message (3 s), % of a core: receivers ${pct(row.idle!.receivers, row.idle!)}, workers ${pct(row.idle!.workers, row.idle!)}, Redis ${pct(redisSum(row.idle!), row.idle!)} (all servers)`,
      );
    // Per Redis server: CPU per message at the constant rate, and connections per instance.
    for (const row of r.rows.filter((x) => x.fixed && x.connections)) {
      const per = [...row.fixed!.cpu.redis].map(([p, sec]) => {
        const role = row.masters?.includes(p) ? 'master' : 'replica';
        return `${p} ${role} ${f(us(sec, row.fixed!.ok))} µs, ${f(row.connections!.get(p), 1)} conn.`;
      });
      out.push(
        `   ${row.key}: per Redis server at ${o.rate}/s (CPU per message; connections per instance): ${per.join(' · ')}`,
      );
    }
    out.push(
      `   recv/wk/redis µs = CPU per message answered 200, of the receivers / the workers processes / every Redis server (INFO cpu) together; backlog = most/last messages waiting (streams + inbox queue), read every second;`,
      `   behind = messages waiting when the closed loop ended (the workers run at idle priority beside the client), drained in "drain s"; client% / other% = this bench's client and other people's processes, % of one core`,
      '',
    );
  }
  for (const fo of r.failovers) {
    out.push(
      `6. Failover seen by a client (${fo.kind}): one instance, ${o.sites} sites, ${o.failoverRate} reports/s (each a task), the master SIGKILLed after ${o.failoverBefore} s, ${o.failoverAfter} s more`,
    );
    if (fo.error) out.push(`   FAILED: ${fo.error.split('\n')[0]}`);
    out.push(
      `   killed: port ${fo.killedPort ?? '—'}${fo.kind === 'cluster' ? ` (the stream of ${fo.shardSites} sites' shards, the keys of ${fo.keySites} sites)` : ''}; a new master seen ${f(fo.electedMs)} ms after the kill`,
    );
    for (const g of fo.groups)
      out.push(
        `   ${g.name}: ${g.sent} sent, ${g.ok} answered 200, ${g.non200} not${g.statuses ? ` (${g.statuses})` : ''} · ` +
          `last 200 before the gap ${f(g.lastBefore)} ms, first 200 after ${f(g.firstAfter)} ms (from the kill); first 200 to a report sent after the kill ${f(g.firstNewAck)} ms; slowest 200 ${f(g.slowestOk)} ms`,
      );
    out.push(
      `   every report answered 200 is one task: ${fo.acked} answered 200, ${fo.withTask} with a task (${fo.missing.length} missing${fo.missing.length ? `: ${fo.missing.slice(0, 5).join(', ')}` : ''}), ` +
        `${fo.distinctTasks} distinct tasks; ${fo.tasksTotal} tasks in all, ${fo.tasksOfUnacked} of them from reports not answered 200 · drained in ${f(fo.drainSeconds, 1)} s · failed jobs ${fo.failures}` +
        `${fo.warnings ? ` · ${fo.warnings} warn/error log lines, the last kept: ${fo.warningTexts}` : ''}`,
      '',
    );
  }
  const m = r.memory;
  if (m) {
    out.push(`7. Redis memory (a private standalone Redis 7, used_memory after the service stopped)`);
    if (m.error) out.push(`   FAILED: ${m.error.split('\n')[0]}`);
    const perSite = (m.idle - m.one) / (m.sites - 1);
    const perTask = (m.withTasks - m.idle) / m.tasks;
    out.push(
      `   empty ${kb(m.empty)} · a district of 1 site ${kb(m.one)} (${m.keysOne} keys) · ${m.sites} idle sites ${kb(m.idle)} (${m.keysIdle} keys; ${kb(m.running)} while the service ran, its connections included)`,
      `   per idle site: ${kb(perSite)}, ${f((m.keysIdle - m.keysOne) / (m.sites - 1), 1)} keys  ((${m.sites} sites − 1 site) / ${m.sites - 1})`,
      `   the service (one process) with 1 / ${m.sites} sites: started in ${f(m.startMs[0])} / ${f(m.startMs[1])} ms, ${f(m.rssMb[0])} / ${f(m.rssMb[1])} MB resident, ${m.clients[0]} / ${m.clients[1]} Redis connections`,
      `   a site's scheduled firings in the next 31 days: ${m.firingsPerMonth} (each kept as a completed job for 31 days)`,
      `   ${m.tasks} reports over the ${m.sites} sites: ${m.acked} answered 200, ${m.tasksMade} tasks, ${m.replies} replies sent · ${kb(m.withTasks)} (${m.keysTasks} keys) → per task ${kb(perTask)}, ${f((m.keysTasks - m.keysIdle) / m.tasks, 1)} keys`,
      `   per task by kind of key (MEMORY USAGE, after − before, / ${m.tasks}):`,
    );
    const names = [...new Set([...m.kindsIdle.keys(), ...m.kindsTasks.keys()])];
    const rows = names
      .map((n) => [n, ((m.kindsTasks.get(n) ?? 0) - (m.kindsIdle.get(n) ?? 0)) / m.tasks] as const)
      .filter(([, v]) => Math.abs(v) >= 1)
      .sort((a, b) => b[1] - a[1]);
    for (const [n, v] of rows) out.push(`     ${pad(n, 34)} ${lpad(f(v), 6)} B`);
    const sum = (pick: (n: string) => boolean) => rows.filter(([n]) => pick(n)).reduce((a, [, v]) => a + v, 0);
    const route = sum((n) => n.startsWith('queue repair:') && !n.includes('events'));
    out.push(
      `     together ${f(sum(() => true))} B; without the queues' events streams (capped at ~10 000 events a queue) ${f(sum((n) => !n.includes('events')))} B`,
      `   a site's firings kept a month, at the size of a completed route job (${f(route)} B, the same small job): ~${kb(m.firingsPerMonth * route)} a site (an estimate, not measured)`,
    );
    out.push(`   per idle site by kind of key (MEMORY USAGE / ${m.sites}):`);
    for (const [n, v] of [...m.kindsIdle].sort((a, b) => b[1] - a[1]))
      out.push(`     ${pad(n, 34)} ${lpad(f(v / m.sites), 6)} B`);
    out.push('');
  }
  return out;
}
