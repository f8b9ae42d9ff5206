// Issue 15's failover run: a district of 20 sites served by three instances on one Redis topology. 600 reports come
// in through each site's own AI-bot callback, round-robin over the instances; workers claim some of them, the
// reminders of the others fire, every site's checklist and digest are scheduled every minute. Mid-run one instance is
// SIGKILLed and (Cluster, Sentinel) one Redis master is killed; the platform sends what got no 200 again, the same
// msgid, to another instance, and the killed instance is started again as a supervisor would. Afterwards: every
// acknowledged report is one task in its own site and nowhere else, every team notice and claim card went out once (a
// group robot may show a notice twice: the repeat operations.md documents after a crash), every reminder fired, every
// firing ran once per site, and the outbox is empty or keeps its failures for replay.
//
// Measured on 2 cores: 35–50 s per topology, 2.1–2.3 min for the file, with the counts of issue 15 (nothing scaled down).
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { LocalChats } from '../../src/channels/local/chats.js';
import type { RedisTopology } from '../../src/config/redis-topology.js';
import { queueNames } from '../../src/queues/names.js';
import { layout, type Layout } from '../../src/store/layout.js';
import { connect } from '../../src/store/redis.js';
import { TaskStore } from '../../src/store/tasks.js';
import type { Task } from '../../src/domain/tasks/task.js';
import {
  type Delivery,
  type DistrictFolder,
  type DistrictSite,
  districtFolder,
  groupText,
  platform,
  type Robot,
} from '../helpers/district-world.js';
import { startFakeWecom, type FakeWecom, type Recorded } from '../helpers/fake-wecom.js';
import { ask } from '../helpers/redis-process.js';
import { dropPrefix, REDIS_URL, redisClient, testPrefix } from '../helpers/redis.js';
import { startCluster, startSentinel } from '../helpers/redis-topology.js';
import { fastTimers, type RunningService, startService, until } from '../helpers/service.js';

const SITES = 20;
const REPORTS = 600;
const INSTANCES = 3;
/** Reports sent per second, round-robin over the instances; the instance is killed halfway, the master 0.5 s later. */
const RATE = 50;
const REMIND_S = 10;
/** The instance SIGKILLed mid-run. */
const KILLED = 1;

/** The example's teams, a problem each gets, the robot of its group and the worker who claims its tasks. */
const teams = [
  { team: 'shuidian', verb: '报修', what: (n: number) => `第${n}号插座没电`, robot: 'WECOM_WEBHOOK_SHUIDIAN' },
  { team: 'mugong', verb: '报修', what: (n: number) => `第${n}张椅子坏了`, robot: 'WECOM_WEBHOOK_MUGONG' },
  { team: 'baojie', verb: '保洁', what: (n: number) => `第${n}号桌下地面很脏需要打扫`, robot: 'WECOM_WEBHOOK_BAOJIE' },
] as const;
const workers: Record<string, string> = { shuidian: 'LiShiFu', mugong: 'ZhengShiFu', baojie: 'HeAYi' };
/** Who gets a team's claim cards (fastTimers drops the on-duty lists: every member). */
const members: Record<string, string[]> = {
  shuidian: ['li_sf', 'wu_sf'],
  mugong: ['zheng_sf'],
  baojie: ['he_ay', 'ma_ay', 'tian_ay'],
};
/**
 * A site's k-th report goes to team k % 3; the team's 1st, 4th, 7th and 10th are claimed once the team notice is out,
 * the other six get their reminder. Each team robot of a site so carries 10 notices and 6–10 reminders: within its 20
 * messages a minute, or the test would wait for the next minute.
 */
const claims = (k: number) => Math.floor(k / teams.length) % 3 === 0;
const places = ['小一班', '小二班', '小三班', '中一班', '中二班', '中三班', '大一班', '大二班', '大三班'];
const teachers = ['WangLi', 'LiNa', 'ZhangMin', 'LiuFang', 'ZhaoJing', 'SunYan'];
const reporters = ['wang_li', 'li_na', 'zhang_min', 'liu_fang', 'zhao_jing', 'sun_yan'];
const corpId = 'wwdistrict0001';
/** Where a failed run leaves every instance's log. */
const ARTIFACTS = resolve(import.meta.dirname, '..', '..', 'test-artifacts', 'district-failover');

interface Topology {
  name: string;
  env: Record<string, string>;
  prefix: string;
  /** The shards the service makes by default on this topology (HOUQIN_SHARDS unset). */
  shards: number;
  where: RedisTopology;
  /** Kills the master serving `key` (on Sentinel, the master). */
  killMaster?(key: string): Promise<{ at: number; port: number }>;
  masterOf?(key: string): Promise<number>;
  waitForNewMaster?(key: string, old: number): Promise<number>;
  stop(): Promise<void>;
}

interface Report {
  n: number;
  site: DistrictSite;
  team: (typeof teams)[number];
  msgid: string;
  responseCode: string;
  /** The task number its reply named. */
  task?: number;
  delivery?: Delivery;
  claim?: { delivery: Delivery; responseCode: string };
  /** Why its flow did not finish (no reply, no notice). */
  stuck?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const codeOf = (url: string) => new URL(url).searchParams.get('response_code')!;
const contentOf = (r: Recorded): string => String(r.body?.text?.content ?? r.body?.markdown?.content ?? '');

async function standalone(): Promise<Topology> {
  // As the other end-to-end tests: the shared Redis, under a prefix of this run's own.
  const prefix = testPrefix('district-failover');
  return {
    name: 'standalone',
    env: { REDIS_URL },
    prefix,
    shards: 1,
    where: { kind: 'standalone', url: REDIS_URL },
    async stop() {
      const r = redisClient();
      await dropPrefix(r, prefix);
      r.disconnect();
    },
  };
}

async function cluster(): Promise<Topology> {
  const c = await startCluster();
  return {
    name: 'cluster',
    env: { REDIS_CLUSTER_NODES: c.topology.nodes.map((n) => `${n.host}:${n.port}`).join(',') },
    prefix: 'houqin-district-failover',
    shards: 6,
    where: c.topology,
    killMaster: (key) => c.killMasterOf(key),
    async masterOf(key) {
      const via = c.nodes.find((n) => n.proc.exitCode === null && n.proc.signalCode === null)!.port;
      const slot = Number(await ask(via, 'CLUSTER', 'KEYSLOT', key));
      const slots = (await ask(via, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
      return Number(slots.find(([from, to]) => slot >= from && slot <= to)![2][1]);
    },
    waitForNewMaster: (key, old) => c.waitForNewMaster(key, old),
    stop: () => c.stop(),
  };
}

async function sentinel(): Promise<Topology> {
  const g = await startSentinel();
  return {
    name: 'sentinel',
    env: {
      REDIS_SENTINELS: g.topology.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: g.topology.name,
    },
    prefix: 'houqin-district-failover',
    shards: 1,
    where: g.topology,
    killMaster: () => g.killMaster(),
    masterOf: () => g.master(),
    waitForNewMaster: (_key, old) => g.waitForNewMaster(old),
    stop: () => g.stop(),
  };
}

/** A site file for this run: short reminders, a checklist and a digest every minute, nothing else scheduled. */
function siteConfig(cfg: Record<string, any>): void {
  fastTimers(cfg, { remind: REMIND_S, assign: 3600, escalate: 7200 });
  // Reports repeat places and trades on purpose: every one must make its own task.
  cfg.sla.duplicateWindow = '0s';
  cfg.channels.dingtalk = { enabled: false };
  const safety = cfg.checklists.find((c: { id: string }) => c.id === 'safety');
  cfg.checklists = [{ ...safety, post: '* * * * *', due: '59 23 * * *', everyDay: true }];
  cfg.digest.daily = '* * * * *';
  cfg.meals.rounds = [];
  cfg.jobs = {
    menu: { enabled: false },
    'digest.daily': { everyDay: true },
    'digest.weekly': { enabled: false },
    'digest.monthly': { enabled: false },
    'checklist-due.safety': { enabled: false },
    'checklist-missed.safety': { enabled: false },
  };
}

/**
 * What the fake WeCom took, indexed as it comes: replies by response_code, team notices and reminders by site and task.
 * (The fake's own waitFor filters every request for every waiter: too slow for hundreds of waiters.)
 */
function watch(fake: FakeWecom, world: DistrictFolder) {
  let seen = 0;
  const replies = new Map<string, Recorded[]>();
  const hooks: Recorded[] = [];
  const notices = new Map<string, Robot[]>();
  const reminders = new Set<string>();
  const scan = () => {
    for (; seen < fake.requests.length; seen++) {
      const r = fake.requests[seen];
      if (r.kind === 'response_url') {
        const code = r.query.response_code;
        replies.set(code, [...(replies.get(code) ?? []), r]);
      }
      if (r.kind !== 'webhook.send') continue;
      hooks.push(r);
      const owner = world.robotOf(r.query.key);
      if (r.errcode !== 0 || !owner) continue;
      const notice = /^(?:📌 |🔴 紧急！)#(\d+) /.exec(contentOf(r));
      if (notice) {
        const k = `${owner.site}#${notice[1]}`;
        notices.set(k, [...(notices.get(k) ?? []), owner.robot]);
      }
      const reminder = /^⏰ #(\d+) /.exec(contentOf(r));
      if (reminder) reminders.add(`${owner.site}#${reminder[1]}`);
    }
  };
  return {
    hooks: () => {
      scan();
      return hooks;
    },
    replies: (code: string) => {
      scan();
      return replies.get(code) ?? [];
    },
    /** The robots that carried the team notice of a site's task. */
    notices: (site: string, task: number) => {
      scan();
      return notices.get(`${site}#${task}`) ?? [];
    },
    noticed: () => {
      scan();
      return notices.size;
    },
    reminded: (site: string, task: number) => {
      scan();
      return reminders.has(`${site}#${task}`);
    },
    async reply(code: string, timeoutMs = 90_000): Promise<Recorded> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        scan();
        const hit = replies.get(code)?.find((r) => r.errcode === 0);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`no reply on response_code ${code} in ${timeoutMs} ms`);
        await sleep(100);
      }
    },
  };
}

async function districtRun(topo: Topology): Promise<void> {
  const began = Date.now();
  const lay: Layout = layout({ base: topo.prefix, tagged: true, shards: topo.shards });
  const world = districtFolder(SITES, siteConfig, corpId);
  const fake = await startFakeWecom({ corpId, corpSecret: 'unused', agentId: 1, webhookKeys: world.hookKeys });
  const seen = watch(fake, world);
  const redis = connect(topo.where);
  redis.on('error', () => undefined); // while a master is gone; the commands wait and then run
  const queues: Queue[] = [];
  const queue = (name: string) => {
    const q = new Queue(name, { connection: redis, prefix: `${topo.prefix}:q` });
    q.on('error', () => undefined);
    queues.push(q);
    return q;
  };
  const env = {
    ...topo.env,
    ...world.env,
    HOUQIN_KEY_PREFIX: topo.prefix,
    HOUQIN_CONFIG: world.dir,
    HOUQIN_VOCABULARY: join(world.dir, 'data', 'vocabulary.yaml'),
    // One process per instance, so that a SIGKILL kills its receiver and its workers at once.
    HOUQIN_PROCESSES: '1',
    WECOM_API_BASE: fake.url,
  };
  const services: RunningService[] = [];
  const masterSeen: number[] = [];
  let watching = true;
  let watcher: Promise<void> | undefined;
  try {
    // The first minute whose firings must run: a scheduler catches up its minute's firing when it starts.
    let firstReady = Number.POSITIVE_INFINITY;
    const start = async () => {
      const svc = await startService(env, 60_000);
      firstReady = Math.min(firstReady, Date.now());
      return svc;
    };
    services.push(...(await Promise.all(Array.from({ length: INSTANCES }, start))));
    const upMs = Date.now() - began;
    const deliver = platform(() => services.map((s) => s.url));

    const reports: Report[] = Array.from({ length: REPORTS }, (_, n) => ({
      n,
      site: world.sites[n % SITES],
      team: teams[Math.floor(n / SITES) % teams.length],
      msgid: `df-${n}-${randomBytes(4).toString('hex')}`,
      responseCode: '',
    }));

    /** A report, its reply, and for some the claim by a worker of its team once the team notice is out. */
    const flow = (r: Report, first: number) =>
      oneFlow(r, first).catch((e: Error) => {
        r.stuck = e.message;
      });
    const oneFlow = async (r: Report, first: number) => {
      const url = fake.mintResponseUrl({ chattype: 'group' });
      r.responseCode = codeOf(url);
      const text = `${r.team.verb} ${places[r.n % places.length]} ${r.team.what(r.n)}`;
      r.delivery = await deliver(r.site, groupText(r.msgid, teachers[r.n % teachers.length], text, url), first);
      if (!r.delivery.ok) return;
      r.task = Number(/#(\d+)/.exec(JSON.stringify((await seen.reply(r.responseCode)).body))![1]);
      if (!claims(Math.floor(r.n / SITES))) return;
      await until(`the notice of ${r.site.id} #${r.task}`, () => seen.notices(r.site.id, r.task!).length, 90_000, 100);
      const claimUrl = fake.mintResponseUrl({ chattype: 'group' });
      const msgid = `dc-${r.n}-${randomBytes(4).toString('hex')}`;
      const claim = groupText(msgid, workers[r.team.team], `${r.task}号我来修`, claimUrl, 'wrTeam');
      r.claim = { delivery: await deliver(r.site, claim, first + 1), responseCode: codeOf(claimUrl) };
    };

    // ---- the run: reports at a steady pace; halfway an instance dies, then a Redis master
    const flows: Promise<void>[] = [];
    let killedAt = 0;
    let masterKilledAt = 0;
    let failover: Promise<{ electedMs: number; shards: number[] }> | undefined;
    const sendStart = Date.now();
    for (let i = 0; i < REPORTS; i++) {
      if (i === REPORTS / 2) {
        killedAt = Date.now();
        await services[KILLED].stop('SIGKILL');
      }
      if (i === REPORTS / 2 + RATE / 2 && topo.killMaster) {
        // The master of the shard that takes s01's messages (on Sentinel, the one master), and which shards it serves.
        const ingress = (sh: number) => `${lay.ingress(sh)}:ingress`;
        const masters = new Map<number, number>();
        for (let sh = 0; sh < lay.shards; sh++) masters.set(sh, await topo.masterOf!(ingress(sh)));
        const key = ingress(lay.shardOf('s01'));
        const { port, at } = await topo.killMaster(key);
        masterKilledAt = at;
        const shards = [...masters].filter(([, p]) => p === port).map(([sh]) => sh);
        failover = topo.waitForNewMaster!(key, port).then(() => ({ electedMs: Date.now() - at, shards }));
        // Which server is master from now on: one promotion is the failover; a second would be the group flapping.
        masterSeen.push(port);
        watcher = (async () => {
          while (watching) {
            const now = await topo.masterOf!(key).catch(() => undefined);
            if (now && now !== masterSeen.at(-1)) masterSeen.push(now);
            await sleep(300);
          }
        })();
      }
      flows.push(flow(reports[i], i % INSTANCES));
      const due = sendStart + ((i + 1) * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    const sentAt = Date.now();
    const master = await failover;
    // A supervisor starts the killed instance again: its scheduler catches up this minute's firings, which ran already.
    const dead = services[KILLED];
    services[KILLED] = await startService(env, 60_000);
    await Promise.all(flows);
    const stuck = reports.filter((r) => r.stuck);
    if (stuck.length) {
      // What the instances said of them, the killed one's included; every line in test-artifacts/.
      const logs = [dead, ...services].flatMap((svc, i) => svc.logs.map((l) => `${i ? i - 1 : 'killed'} ${l}`));
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, `${topo.name}.log`), logs.join('\n'));
      for (const r of stuck.slice(0, 5))
        console.log(`${r.site.id} ${r.msgid}: ${r.stuck}\n${logs.filter((l) => l.includes(r.msgid)).join('\n')}`);
    }
    expect(stuck.map((r) => `${r.site.id} ${r.msgid}: ${r.stuck}`)).toEqual([]);

    // ---- drained: no message, job or timer of the run left waiting, every reminder out
    const work = [queueNames.outbox, queueNames.inbox, queueNames.timers, 'repair', 'cleaning'];
    for (let sh = 0; sh < lay.shards; sh++) for (const name of work) queue(lay.queue(name, sh));
    const unclaimed = reports.filter((r) => r.task && !r.claim);
    const notReminded = () => unclaimed.filter((u) => !seen.reminded(u.site.id, u.task!));
    const idle = async () => {
      for (const q of queues) {
        const c = await q.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children', 'delayed');
        // The timers still to fire (assign, escalate) are hours away.
        if (q.name.includes(queueNames.timers)) c.delayed = 0;
        if (Object.values(c).some((v) => v > 0)) return false;
      }
      for (let sh = 0; sh < lay.shards; sh++)
        if (((await redis.xpending(`${lay.ingress(sh)}:ingress`, 'workers')) as [number])[0] > 0) return false;
      return notReminded().length === 0;
    };
    await until('every queue drained and every reminder sent', idle, 120_000, 250).catch(async (e) => {
      const counts = await Promise.all(queues.map(async (q) => `${q.name} ${JSON.stringify(await q.getJobCounts())}`));
      const missing = notReminded().map((u) => `${u.site.id}#${u.task}`);
      throw new Error(`${(e as Error).message}\n${counts.join('\n')}\nnot reminded: ${missing.join(' ')}`);
    });
    const drainMs = Date.now() - sentAt;
    watching = false;
    await watcher;

    // ---- every acknowledged report: exactly one task, in its own site, none in another
    const answered = reports.filter((r) => r.delivery?.ok);
    expect(answered.length).toBe(REPORTS);
    const tasks = new Map<string, Task[]>();
    const count = new Map<number, number>();
    const misplaced: string[] = [];
    for (const s of world.sites) {
      const store = new TaskStore(redis, lay.site(s.id));
      const seq = Number(await redis.get(store.k.taskSeq));
      const list = await store.getMany(Array.from({ length: seq }, (_, i) => i + 1));
      tasks.set(s.id, list);
      for (const t of list) {
        const n = Number(/第(\d+)/.exec(t.text)?.[1]);
        if (reports[n]?.site !== s) misplaced.push(`${s.id}#${t.id} "${t.text}"`);
        else count.set(n, (count.get(n) ?? 0) + 1);
      }
      for (const r of answered.filter((x) => x.site === s))
        expect(Number(await redis.get(store.k.createdBy(`wecom:aibot:${r.msgid}`))), r.msgid).toBe(r.task);
    }
    expect(misplaced).toEqual([]);
    expect(answered.filter((r) => count.get(r.n) !== 1).map((r) => `${r.site.id} ${r.n} ×${count.get(r.n)}`)).toEqual(
      [],
    );
    for (const r of answered) expect(seen.replies(r.responseCode).length, r.msgid).toBeGreaterThan(0);

    // Every claim answered took its task, and said so to the worker and to the reporter (a DM: in the console) once.
    // A claim handled again after the kill (taken over from the stream) says what its first handling said.
    const claimed = reports.filter((r) => r.claim?.delivery.ok);
    const untold: string[] = [];
    for (const r of claimed) {
      expect(tasks.get(r.site.id)![r.task! - 1].state, `${r.site.id}#${r.task}`).toBe('claimed');
      expect(JSON.stringify((await seen.reply(r.claim!.responseCode)).body)).toContain('你已接单');
      const dm = await new LocalChats(redis, lay.site(r.site.id)).read(
        `dm:${reporters[r.n % reporters.length]}`,
        '0-0',
      );
      const n = dm.filter((m) => m.text?.startsWith(`你报的 #${r.task} 已由`)).length;
      if (n !== 1) untold.push(`${r.site.id}#${r.task} ×${n}`);
    }
    expect(untold).toEqual([]);

    // ---- team notices: each task's once, by its own site's robot of its team; a reminder for every unclaimed task
    expect(
      answered
        .filter((r) => {
          const robots = seen.notices(r.site.id, r.task!);
          return !robots.length || robots.some((robot) => robot !== r.team.robot);
        })
        .map((r) => `${r.site.id}#${r.task} ${r.team.robot}: ${seen.notices(r.site.id, r.task!)}`),
    ).toEqual([]);
    expect(seen.noticed()).toBe(answered.length);
    expect(notReminded()).toEqual([]);
    // What a group showed twice: only the documented repeat, a message WeCom took in the instant before a crash (the
    // instance, or the master holding its "sent" mark) and that went again after it. The fake stamps a request when its
    // event loop gets to it, up to a second late under this load.
    const kills = [
      { what: 'instance', at: killedAt },
      { what: 'master', at: masterKilledAt },
    ].filter((k) => k.at);
    const shown = new Map<string, Recorded[]>();
    for (const h of seen.hooks().filter((x) => x.errcode === 0)) {
      const k = `${h.query.key} ${h.rawBody}`;
      shown.set(k, [...(shown.get(k) ?? []), h]);
    }
    const repeats: string[] = [];
    const undocumented: string[] = [];
    for (const [k, list] of shown) {
      if (list.length < 2) continue;
      const crash = kills.find((c) => Math.abs(list[0].at - c.at) < 1500 && list[1].at > c.at + 1500);
      const line = `${world.robotOf(k.split(' ')[0])?.site} ${contentOf(list[0]).split('\n')[0]}`;
      repeats.push(`${line} (after the ${crash?.what ?? '?'} kill)`);
      if (list.length > 2 || !crash)
        undocumented.push(`${line} ×${list.length} at ${list.map((x) => x.at - killedAt)}`);
    }
    expect(undocumented).toEqual([]);

    // ---- claim cards: one per task to each member of its team, in the console (no WeCom app in these sites)
    const cards: string[] = [];
    for (const s of world.sites) {
      const chats = new LocalChats(redis, lay.site(s.id));
      for (const [team, people] of Object.entries(members))
        for (const p of people) {
          const refs = (await chats.read(`dm:${p}`, '0-0')).flatMap((m) => (m.type === 'card' ? [m.card?.ref] : []));
          for (const r of answered.filter((x) => x.site === s && x.team.team === team)) {
            const n = refs.filter((ref) => ref === `t${r.task}`).length;
            if (n !== 1) cards.push(`${s.id} ${p} #${r.task} ×${n}`);
          }
        }
    }
    expect(cards).toEqual([]);

    // ---- scheduled firings: every minute since the start, once per site. The digest reaches the director once per
    // firing (a DM: in the console); the checklist is posted by the site's own manager robot once a day (a repeat would
    // be a duplicate above). Read again while a firing of a minute that has just begun is on its way.
    const firstMinute = Math.floor(firstReady / 60_000) * 60_000;
    let fired = 0;
    const firingsRan = async () => {
      const lastMinute = Math.floor((Date.now() - 3000) / 60_000) * 60_000;
      const firings = new Map<string, Set<number>>();
      const problems: string[] = [];
      for (let sh = 0; sh < lay.shards; sh++)
        for (const j of await queue(lay.queue('scheduled', sh)).getJobs(['completed', 'failed', 'active', 'wait'])) {
          const state = await j.getState();
          if (state !== 'completed') problems.push(`${j.id} ${state}`);
          const key = `${j.data.tenant} ${j.data.name}`;
          firings.set(key, (firings.get(key) ?? new Set()).add(j.data.at));
        }
      fired = [...firings.values()].reduce((n, at) => n + at.size, 0);
      for (const s of world.sites) {
        for (const job of ['digest.daily', 'checklist.safety'])
          for (let m = firstMinute; m <= lastMinute; m += 60_000)
            if (!firings.get(`${s.id} ${job}`)?.has(m)) problems.push(`${s.id} ${job} did not fire at ${m}`);
        const digests = (await new LocalChats(redis, lay.site(s.id)).read('dm:zhou_yz', '0-0')).filter((m) =>
          m.text?.includes('日报'),
        ).length;
        const firedHere = firings.get(`${s.id} digest.daily`)?.size ?? 0;
        if (digests !== firedHere) problems.push(`${s.id}: ${digests} digests for ${firedHere} firings`);
        const posted = seen.hooks().filter((h) => h.query.key === s.hooks.WECOM_WEBHOOK_MANAGER && h.errcode === 0);
        if (!posted.some((h) => contentOf(h).startsWith('📋'))) problems.push(`${s.id}: no checklist posted`);
      }
      return problems;
    };
    await until('every firing ran once per site', async () => (await firingsRan()).length === 0, 15_000, 500).catch(
      async (e) => {
        throw new Error(`${(e as Error).message}:\n${(await firingsRan()).slice(0, 20).join('\n')}`);
      },
    );

    // ---- the outbox: empty (above), or its failures kept for replay
    const failed: string[] = [];
    for (const q of queues.filter((x) => x.name.startsWith(`{${queueNames.outbox}-`)))
      for (const j of await q.getFailed()) {
        expect(await j.getState(), j.id).toBe('failed');
        failed.push(`${j.id}: ${j.failedReason}`);
      }
    expect(fake.violations().map((v) => `${v.kind}: ${v.violations.join('; ')} ${v.rawBody.slice(0, 80)}`)).toEqual([]);

    // ---- the figures
    const retried = answered.filter((r) => r.delivery!.attempts.length > 1).length;
    const takenOver = services
      .flatMap((svc) => svc.logs)
      .filter((l) => l.includes('taking over messages'))
      .reduce((n, l) => n + Number(JSON.parse(l).count), 0);
    // A callback sent to the dead instance: from that try to the 200 of another instance.
    const instanceGap = Math.max(
      ...answered
        .map((r) => r.delivery!)
        .filter((d) => d.attempts[0].instance === KILLED && d.attempts[0].at >= killedAt)
        .map((d) => d.ok!.answeredAt - d.attempts[0].at),
    );
    let failoverLine = '';
    if (master) {
      // As a client sees it, for the sites whose messages that master took: the last 200 before it died → the first
      // 200 to a callback sent after.
      const oks = answered.filter((r) => master.shards.includes(lay.shardOf(r.site.id))).map((r) => r.delivery!.ok!);
      const lastBefore = Math.max(...oks.filter((a) => a.answeredAt <= masterKilledAt).map((a) => a.answeredAt));
      const gap = Math.min(...oks.filter((a) => a.at > masterKilledAt).map((a) => a.answeredAt)) - lastBefore;
      failoverLine =
        `; Redis master SIGKILLed: new master after ${master.electedMs} ms, last 200 before → first 200 after ` +
        `${gap} ms (shards ${master.shards.join(',')} of ${lay.shards}; master ${masterSeen.join(' → ')})`;
    }
    console.log(
      `[${topo.name}] ${SITES} sites on ${INSTANCES} instances (up in ${upMs} ms); reports sent ${REPORTS}, answered ` +
        `${answered.length} (${retried} on a retry), in ${sentAt - sendStart} ms; claims ${claimed.length} answered; ` +
        `instance SIGKILLed: its callbacks answered by another within ${instanceGap} ms, ${takenOver} messages it had ` +
        `read taken over by the others` +
        `${failoverLine}; duplicates shown ${repeats.length}${repeats.length ? ` (${repeats.join('; ')})` : ''}; ` +
        `drained ${drainMs} ms after the last report; ${fired} firings; outbox failures kept ${failed.length}` +
        `${failed.length ? ` (${failed.slice(0, 3).join('; ')})` : ''}; ${Date.now() - began} ms in all`,
    );
  } catch (e) {
    for (const [i, s] of services.entries())
      console.log(
        `--- instance ${i}\n${s.logs
          .filter((l) => !l.includes('"level":30'))
          .slice(-20)
          .join('\n')}`,
      );
    throw e;
  } finally {
    watching = false;
    await watcher;
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
    await Promise.allSettled(queues.map((q) => q.close()));
    redis.disconnect();
    await fake.close();
  }
}

async function withTopology(make: () => Promise<Topology>): Promise<void> {
  const topo = await make();
  try {
    await districtRun(topo);
  } finally {
    await topo.stop();
  }
}

describe('a district of 20 sites on three instances: one SIGKILLed, a Redis master killed', () => {
  it('on standalone Redis (the instance only)', { timeout: 150_000 }, () => withTopology(standalone));
  it('on a Redis Cluster (6 nodes)', { timeout: 150_000 }, () => withTopology(cluster));
  it('on a Redis Sentinel group (1 master, 2 replicas, 3 sentinels)', { timeout: 150_000 }, () =>
    withTopology(sentinel),
  );
});
