// Part 2: from a report's callback to the worker's claim card leaving, at a steady rate of reports.
// The real app (`houqin serve`, pinned to core 0) talks to the fake WeCom (test/helpers/fake-wecom.ts) that runs
// in this process (core 1) together with the client that sends the callbacks, so both ends read one clock.
//
// Per report i: a fresh response_url is minted on the fake; the callback is sent at sentAt[i] (Date.now() just
// before the request is written). The app's answer to that response_url ("✅ 已登记 #N …") tells the task number
// N; the claim card is the fake's message/send whose template_card button key is "claim:N"; its arrival time is the
// fake's `at` (Date.now() when the request reached it). latency = cardAt − sentAt. Resolution: 1 ms.
//
// The per-member limit (30 app messages/minute, wecom.md §5.3, which the app respects by delaying) would dominate
// at 100 reports/s with the example kindergarten's handful of workers. So the app runs on a copy of
// config/example.yaml with 120 extra workers and 120 extra rooms, each room owned (责任到人) by one of them for
// repairs, in a team without a group chat: every report makes exactly one claim card, to the room's owner, and no
// group-robot notice (whose 20/minute limit would throttle too). Reports go round-robin over the rooms, so each
// worker gets at most rate×(warm-up+seconds)/120 cards per minute (11 at 100/s for 3+10 s), well under 30. SLA durations stay as
// in the example (30 min and more: no timer fires during the run).
import { Agent } from 'node:http';
import { postJson } from './lib/http.js';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Recorded } from '../test/helpers/fake-wecom.js';
import { testConfig } from '../test/helpers/service.js';
import { aibotPost, aibotText } from '../test/helpers/wecom-callbacks.js';
import { wecomWorld } from '../test/helpers/wecom-env.js';
import { Redis } from 'ioredis';
import { meterCpu, waitQuiet, type CpuUse } from './lib/cpu.js';
import { sleep, startServer, type Server } from './lib/proc.js';
/** The workers' niceness beside the fake WeCom, as the README recommends for workers sharing a core. */
const WORKERS_NICE = 10;
import { benchPrefix, dropPrefix, REDIS_URL } from './lib/redis.js';
import { percentile } from './lib/stats.js';

export interface LatencyOptions {
  rate: number; // reports per second
  seconds: number; // measured
  warmupSeconds: number;
  rooms: number; // workers/rooms added to the config (≤ 120)
  serverCpu: string;
  nodeArgs: string[];
  /** the server command after `node`; default the real app (run.ts also runs diagnostic variants) */
  serverArgs: string[];
  /** a second process with the same environment (the workers of a receiver/workers split), pinned to workersCpu */
  workersArgs?: string[];
  workersCpu: string;
  serverEnv: Record<string, string>;
  log: (line: string) => void;
}

export const defaultLatencyOptions = (): LatencyOptions => ({
  rate: Number(process.env.BENCH_REPORT_RATE || 100),
  seconds: Number(process.env.BENCH_REPORT_SECONDS || 10),
  warmupSeconds: 3,
  rooms: 120,
  serverCpu: '0',
  nodeArgs: (process.env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean),
  serverArgs: ['bin/houqin.mjs', 'serve'],
  workersCpu: '1',
  serverEnv: {},
  log: (l) => process.stderr.write(l + '\n'),
});

export interface LatencyResult {
  rate: number;
  seconds: number;
  sent: number;
  /** callbacks answered 200 */
  ok: number;
  non200: string[];
  cards: number;
  missing: number;
  /** callback → claim card at the fake, ms */
  card: { p50: number; p95: number; p99: number; max: number };
  /** callback → the reply on the report's response_url, ms */
  ack: { p50: number; p95: number; p99: number; max: number };
  /** callback request round trip (the 200), ms */
  http: { p50: number; p95: number; p99: number; max: number };
  achievedRate: number;
  maxCardsPerMemberPerMinute: number;
  fakeErrors: number;
  violations: string[];
  warnings: number;
  cpu?: CpuUse;
  error?: string;
}

const stems = '甲乙丙丁戊己庚辛壬癸'.split('');
const branches = '子丑寅卯辰巳午未申酉戌亥'.split('');

function benchConfig(rooms: number): { file: string; places: string[] } {
  const places: string[] = [];
  const file = testConfig((cfg) => {
    const people: Record<string, unknown>[] = [];
    let n = 0;
    for (const s of stems) {
      for (const b of branches) {
        if (n >= rooms) break;
        const num = String(++n).padStart(3, '0');
        const id = `bench_w${num}`;
        people.push({ id, name: `${s}${b}师傅`, roles: ['worker'], title: '压测维修工', wecom: `BenchW${num}` });
        cfg.places.push({ name: `${s}${b}室`, type: 'room', building: '压测楼', owners: { repair: id } });
        places.push(`${s}${b}室`);
      }
    }
    cfg.people.push(...people);
    cfg.teams.push({ id: 'bench_repair', name: '压测维修', kinds: ['repair'], members: people.map((p) => p.id) });
  });
  return { file, places };
}

const stat = (xs: number[]) => ({
  p50: percentile(xs, 50),
  p95: percentile(xs, 95),
  p99: percentile(xs, 99),
  max: xs.length ? Math.max(...xs) : NaN,
});

export async function benchLatency(o: LatencyOptions): Promise<LatencyResult> {
  const world = await wecomWorld();
  const { file: configFile, places } = benchConfig(o.rooms);
  const prefix = benchPrefix('latency');
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  let server: Server | undefined;
  let workers: Server | undefined;
  const result: LatencyResult = {
    rate: o.rate,
    seconds: o.seconds,
    sent: 0,
    ok: 0,
    non200: [],
    cards: 0,
    missing: 0,
    card: stat([]),
    ack: stat([]),
    http: stat([]),
    achievedRate: 0,
    maxCardsPerMemberPerMinute: 0,
    fakeErrors: 0,
    violations: [],
    warnings: 0,
  };
  try {
    o.log(
      `[latency] starting ${o.serverArgs.join(' ')} on cpu ${o.serverCpu} against the fake WeCom at ${world.fake.url} (${o.rooms} extra rooms/workers)`,
    );
    const env = { ...o.serverEnv, ...world.env, REDIS_URL, HOUQIN_KEY_PREFIX: prefix, HOUQIN_CONFIG: configFile };
    server = await startServer('real', [...o.nodeArgs, ...o.serverArgs], env, o.serverCpu);
    // nice 10, as the README recommends: here the workers' speed is what is measured, and at idle priority they
    // would wait for every callback the bench sends and every request the fake WeCom answers on their core.
    if (o.workersArgs)
      workers = await startServer(
        'real-workers',
        [...o.nodeArgs, ...o.workersArgs],
        env,
        o.workersCpu,
        30_000,
        WORKERS_NICE,
      );
    const base = new URL('/wecom/aibot', server.url);

    // One phase: `count` reports at `rate`/s on an absolute schedule; returns what each one needs for matching.
    const phase = async (count: number) => {
      // Build the signed requests first (fresh timestamps), so the send loop only writes.
      const items = Array.from({ length: count }, (_, i) => {
        const responseUrl = world.fake.mintResponseUrl({ chattype: 'group' });
        const code = new URL(responseUrl).searchParams.get('response_code')!;
        const place = places[i % places.length];
        const msgid = `bench-lat-${Date.now()}-${i}-${Math.random().toString(36).slice(2, 8)}`;
        const { query, body } = aibotPost(
          world.aibot,
          aibotText({
            msgid,
            userid: 'WangLi',
            chatid: 'wrBenchLatency',
            content: `@后勤助手 报修 ${place} 空调不制冷`,
            responseUrl,
          }),
        );
        return { url: new URL(`${base.pathname}?${query}`, base), body, code, sentAt: 0, doneAt: 0, status: 0 };
      });
      const inflight: Promise<void>[] = [];
      const t0 = Date.now() + 20;
      const interval = 1000 / o.rate;
      for (let i = 0; i < count; i++) {
        const due = t0 + i * interval;
        const wait = due - Date.now();
        if (wait > 0.5) await sleep(wait);
        const it = items[i];
        it.sentAt = Date.now();
        inflight.push(
          postJson(agent, it.url, it.body).then(
            (s) => {
              it.status = s;
              it.doneAt = Date.now();
            },
            (e: Error) => {
              it.status = -1;
              it.doneAt = Date.now();
              result.non200.push(e.message);
            },
          ),
        );
      }
      const sendSeconds = (Date.now() - t0) / 1000;
      await Promise.all(inflight);
      return { items, sendSeconds };
    };

    // Waits (bounded) until every report has its reply and its card; returns the matches.
    const collect = async (items: { code: string; sentAt: number }[], maxMs: number) => {
      const want = new Map(items.map((it, i) => [it.code, i]));
      const t0 = Date.now();
      let taskOf = new Map<number, number>(); // task number → item index
      let acks = new Map<number, Recorded>();
      let cards = new Map<number, Recorded>();
      for (;;) {
        taskOf = new Map();
        acks = new Map();
        for (const r of world.fake.requests) {
          if (r.kind !== 'response_url') continue;
          const i = want.get(r.query.response_code);
          if (i === undefined) continue;
          acks.set(i, r);
          const m = /#(\d+)/.exec(JSON.stringify(r.body));
          if (m) taskOf.set(Number(m[1]), i);
        }
        cards = new Map();
        for (const r of world.fake.requests) {
          if (r.kind !== 'message.send' || r.body?.msgtype !== 'template_card') continue;
          const key = r.body.template_card?.button_list?.[0]?.key as string | undefined;
          const m = key ? /^claim:(\d+)$/.exec(key) : null;
          const i = m ? taskOf.get(Number(m[1])) : undefined;
          if (i !== undefined && !cards.has(i)) cards.set(i, r);
        }
        if (cards.size >= items.length || Date.now() - t0 > maxMs) break;
        await sleep(100);
      }
      return { acks, cards };
    };

    o.log(`[latency] warm-up: ${o.rate * o.warmupSeconds} reports at ${o.rate}/s`);
    const warm = await phase(o.rate * o.warmupSeconds);
    await collect(warm.items, 20_000);
    await sleep(500);

    const count = Math.round(o.rate * o.seconds);
    const quiet = await waitQuiet(20_000);
    o.log(
      `[latency] measuring: ${count} reports at ${o.rate}/s (${o.seconds}s; machine ${quiet.toFixed(0)}% busy before)`,
    );
    const firstIndex = world.fake.requests.length;
    const meter = await meterCpu(server.proc.pid, redis, workers?.proc.pid);
    const { items, sendSeconds } = await phase(count);
    result.cpu = await meter.stop(); // over the sending time: the steady state
    const { acks, cards } = await collect(items, 60_000);

    result.sent = items.length;
    result.achievedRate = items.length / sendSeconds;
    result.ok = items.filter((it) => it.status === 200).length;
    for (const it of items) if (it.status !== 200 && it.status !== -1) result.non200.push(String(it.status));
    result.cards = cards.size;
    result.missing = items.length - cards.size;
    result.card = stat([...cards].map(([i, r]) => r.at - items[i].sentAt));
    result.ack = stat([...acks].map(([i, r]) => r.at - items[i].sentAt));
    result.http = stat(items.filter((it) => it.status === 200).map((it) => it.doneAt - it.sentAt));
    // The per-member limit must not have shaped the result: busiest member's cards in any 61 s window.
    const byUser = new Map<string, number[]>();
    for (const r of world.fake.requests)
      if (r.kind === 'message.send') byUser.set(r.body.touser, [...(byUser.get(r.body.touser) ?? []), r.at]);
    for (const times of byUser.values()) {
      for (let a = 0, b = 0; b < times.length; b++) {
        while (times[b] - times[a] > 61_000) a++;
        result.maxCardsPerMemberPerMinute = Math.max(result.maxCardsPerMemberPerMinute, b - a + 1);
      }
    }
    const measured = world.fake.requests.slice(firstIndex);
    result.fakeErrors = measured.filter((r) => r.errcode !== 0).length;
    result.violations = world.fake
      .violations()
      .flatMap((r) => r.violations)
      .slice(0, 5);
    o.log(`[latency] card p50 ${result.card.p50} ms, p95 ${result.card.p95} ms; ${result.cards}/${result.sent} cards`);
  } catch (e) {
    result.error = (e as Error).message;
    o.log(`[latency] FAILED ${result.error}`);
  } finally {
    result.warnings = (server?.warnings() ?? 0) + (workers?.warnings() ?? 0);
    await server?.stop();
    await workers?.stop();
    const counts = server?.logs.find((l) => l.startsWith('BENCH_COUNTS '));
    if (counts)
      o.log(
        `[latency] Redis commands over the whole run (${result.sent} measured + ${o.rate * o.warmupSeconds} warm-up reports): ${counts.slice(13)}`,
      );
    agent.destroy();
    redis.disconnect();
    await world.fake.close();
    await dropPrefix(prefix);
    rmSync(dirname(configFile), { recursive: true, force: true });
  }
  return result;
}
