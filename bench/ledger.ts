// The digest and the ledger over a seeded school year (issue 5 §7).
//   node bin/run-ts.mjs bench/ledger.ts [--tasks 100000] [--checklists 40000] [--meals 20000] [--keep]
// Seeds, under its own prefix on the shared Redis (REDIS_URL, default 127.0.0.1:6379), a school year of tasks with
// full histories (written with pipelines in exactly the shape the Lua scripts store — same hash encoding, log,
// indexes and daily stats, computed by the same code), checklist sheets and meal ratings; then measures:
//   • Redis memory per stored task (INFO used_memory before/after the tasks ÷ count; target < 2 KB),
//   • the daily digest (target < 1 s), and the weekly / monthly summaries with and without the chart,
//   • the monthly export (target < 30 s) and its peak RSS, in a fresh child process each time, for the same month
//     with ~10 % and with 100 % of the year in the store, and for the busiest month (memory must not grow).
// Everything under the prefix is deleted at the end with SCAN + UNLINK (never FLUSHALL). Figures go to stdout,
// progress to stderr. bench/run.ts can import benchLedger() and print the rows itself.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createWriteStream } from 'node:fs';
import { Redis } from 'ioredis';
import { loadSettings } from '../src/config/load.js';
import type { Config, Kind } from '../src/config/schema.js';
import { Roster } from '../src/domain/roster.js';
import { digestsFor } from '../src/domain/digest/service.js';
import { recordKeys, type ChecklistSheet, type MealFeedback } from '../src/domain/records.js';
import type { State, Task, TaskEvent } from '../src/domain/tasks/task.js';
import { exportMonth } from '../src/ledger/export.js';
import { SchoolCalendar } from '../src/scheduler/calendar.js';
import { keys as makeKeys } from '../src/store/keys.js';
import { createDeltas, targetsOf, transitionDeltas, type StatsOptions, type StatsTriple } from '../src/store/stats.js';
import { encodeTaskFields, TaskStore } from '../src/store/tasks.js';
import { benchPrefix, dropPrefix, REDIS_URL } from './lib/redis.js';

const ROOT = resolve(import.meta.dirname, '..');
const MIN = 60_000;
const HOUR = 60 * MIN;
const log = (l: string) => process.stderr.write(l + '\n');

export interface LedgerBenchOptions {
  tasks: number;
  checklists: number; // checklist entries (items on sheets)
  meals: number;
  keep?: boolean;
}

export interface LedgerFigures {
  tasks: number;
  schoolDays: number;
  seedSeconds: number;
  redisBytesPerTask: number;
  redisBytesPerTaskSampled: number;
  activeTasks: number;
  digestDayMs: { cold: number; median: number };
  digestWeekMs: number;
  digestMonthMs: number;
  chartMs: number;
  exports: {
    label: string;
    month: string;
    storeTasks: number;
    monthTasks: number;
    events: number;
    ms: number;
    peakRssMb: number;
    cappedMs: number;
    cappedRssMb: number;
    fileMb: number;
  }[];
  baselineRssMb: number;
  cappedBaselineRssMb: number;
}

// ── a small deterministic random source ──────────────────────────────────────────────────────────────────────
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
    /** exponential with this mean */
    exp: (mean: number) => -Math.log(1 - next()) * mean,
  };
}

const TEXTS: Record<Kind, string[]> = {
  repair: [
    '水龙头漏水',
    '灯管一闪一闪的，孩子们午睡受影响',
    '空调不制冷',
    '门锁坏了关不上',
    '椅子腿松了，坐上去晃得厉害，怕孩子摔倒',
    '插座没电',
    '厕所堵了，水漫出来了，请尽快来处理',
    '窗户把手掉了',
    '饮水机不出热水',
    '滑梯螺丝松了',
  ],
  cleaning: [
    '地上有呕吐物',
    '午睡室地毯有污渍',
    '楼梯扶手很脏',
    '厕所有异味，需要消毒',
    '门口有积水，容易滑倒',
    '玩具需要消毒',
  ],
  meal: ['米饭太硬', '汤太咸了', '菜里有头发', '水果不新鲜', '午点分量不够'],
};

function dateAt(date: string, minutesFromMidnight: number): number {
  return Date.parse(`${date}T00:00:00+08:00`) + minutesFromMidnight * MIN;
}

/** The school days of the 2025–26 school year in the example calendar. */
function schoolDays(cal: SchoolCalendar): string[] {
  const out: string[] = [];
  for (
    let d = '2025-09-01';
    d <= '2026-07-10';
    d = new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
  )
    if (cal.isSchoolDay(d)) out.push(d);
  return out;
}

interface Seeded {
  task: Record<string, unknown>;
  id: number;
  events: TaskEvent[];
  stats: StatsTriple[];
  final: boolean;
  reporter: string;
  assignee?: string;
  claimedAt?: number;
}

/** One task's life: report, claim or assignment, perhaps a hold, 完工, perhaps rework, acceptance and rating. */
function simulate(
  id: number,
  day: string,
  recent: boolean,
  r: ReturnType<typeof rng>,
  config: Config,
  prefix: string,
  so: StatsOptions,
): Seeded {
  const kind: Kind = r.chance(0.55) ? 'repair' : r.chance(0.78) ? 'cleaning' : 'meal';
  const team = kind === 'repair' ? (r.chance(0.7) ? 'shuidian' : 'mugong') : kind === 'cleaning' ? 'baojie' : 'shitang';
  const members = config.teams.find((t) => t.id === team)!.members;
  const teachers = config.people
    .filter((p) => p.roles.includes('teacher') || p.roles.includes('nurse'))
    .map((p) => p.id);
  const place = r.pick(config.places).name;
  const reporter = r.pick(teachers);
  const createdAt = dateAt(day, 450 + r.int(0, 570));
  const urgent = r.chance(0.08);
  const task: Record<string, unknown> = {
    kind,
    trade: kind === 'repair' ? r.pick(['水', '电', '门窗', '桌椅', '空调']) : undefined,
    place,
    text: `${place} ${r.pick(TEXTS[kind])}`,
    reporter,
    team,
    source: {
      channel: 'wecom',
      surface: r.chance(0.8) ? 'aibot' : 'app',
      chatId: r.chance(0.8) ? `wrkSFfCgAA${(id % 97).toString(36).padStart(22, 'x')}` : reporter,
      chatType: 'group',
    },
    urgent,
    createdAt,
    state: 'open' as State,
    acked: false,
    rework: 0,
    doneCount: 0,
    version: 1,
    ...(kind === 'meal' ? { mealRating: r.int(1, 2) } : {}),
  };
  const events: TaskEvent[] = [{ at: createdAt, by: reporter, type: 'created', text: task.text as string }];
  const stats: StatsTriple[] = [...createDeltas(prefix, { kind, urgent, createdAt }, so)];
  const cur = () => ({
    kind,
    urgent,
    createdAt,
    state: task.state as State,
    doneCount: task.doneCount as number,
    assignee: task.assignee as string | undefined,
    rating: task.rating as number | undefined,
  });
  const step = (at: number, by: string, type: string, set: Record<string, unknown>, extra: Partial<TaskEvent> = {}) => {
    const e: TaskEvent = { at, by, type, ...extra };
    stats.push(...transitionDeltas(prefix, cur(), { event: e, set: set as Partial<Record<keyof Task, unknown>> }, so));
    Object.assign(task, set);
    task.version = (task.version as number) + 1;
    events.push(e);
  };
  const note = (at: number, by: string, type: string) => events.push({ at, by, type });
  let t = createdAt;
  const stopAt = recent ? r.pick([0, 1, 2]) : 9; // the last days' tasks are still open, claimed or waiting
  if (r.chance(0.15)) note(t + 30 * MIN, 'system', 'reminded');
  if (!recent && r.chance(0.02)) {
    step(t + r.int(5, 60) * MIN, reporter, 'cancelled', { state: 'cancelled', cancelledAt: t + 30 * MIN });
    return { task, id, events, stats, final: true, reporter };
  }
  if (stopAt === 0 || (!recent && r.chance(0.003))) return { task, id, events, stats, final: false, reporter }; // never claimed
  const worker = r.pick(members);
  if (r.chance(0.8)) {
    t += Math.max(MIN, r.exp(urgent ? 6 * MIN : 20 * MIN));
    step(t, worker, 'claimed', { state: 'claimed', assignee: worker, assignedBy: worker, acked: true, claimedAt: t });
  } else {
    t += HOUR;
    step(
      t,
      'system',
      'assigned',
      { state: 'claimed', assignee: worker, assignedBy: 'system', acked: false, claimedAt: t },
      { to: worker },
    );
    t += r.int(2, 30) * MIN;
    step(t, worker, 'acknowledged', { acked: true });
  }
  const claimedAt = t;
  if (r.chance(0.2)) note(t + 10 * MIN, reporter, 'nudged');
  if (r.chance(0.08)) {
    t += r.int(10, 120) * MIN;
    step(t, worker, 'held', { state: 'on_hold', holdReason: '待配件' }, { text: '待配件' });
    t += r.int(2, 48) * HOUR;
    step(t, worker, 'resumed', { state: 'claimed', holdReason: undefined });
  }
  if (stopAt === 1) return { task, id, events, stats, final: false, reporter, assignee: worker, claimedAt };
  t += Math.max(10 * MIN, r.exp(urgent ? HOUR : 5 * HOUR));
  step(
    t,
    worker,
    'done',
    { state: 'done', doneAt: t, note: r.chance(0.5) ? '已处理' : undefined, doneCount: 1 },
    { text: '已处理' },
  );
  if (r.chance(0.05)) {
    t += r.int(1, 6) * HOUR;
    step(t, reporter, 'reopened', { state: 'claimed', note: undefined, rework: 1 }, { text: '还是不行' });
    t += r.int(1, 8) * HOUR;
    step(t, worker, 'done', { state: 'done', doneAt: t, doneCount: 2 }, { text: '重新处理' });
  }
  if (stopAt === 2) return { task, id, events, stats, final: false, reporter, assignee: worker, claimedAt };
  const how = r.next();
  if (how < 0.5) {
    t += r.int(10, 600) * MIN;
    const rating = r.chance(0.9) ? r.int(4, 5) : r.int(1, 3);
    step(
      t,
      reporter,
      'rated',
      { state: 'accepted', rating, ratingText: rating >= 4 ? '满意' : '太慢了', acceptedAt: t },
      { rating, text: rating >= 4 ? '满意' : '太慢了' },
    );
  } else if (how < 0.75) {
    t += r.int(10, 600) * MIN;
    step(t, reporter, 'accepted', { state: 'accepted', acceptedAt: t });
  } else {
    t += 48 * HOUR;
    step(
      t,
      'system',
      'auto_accepted',
      { state: 'accepted', acceptedAt: t, rating: 5, ratingText: '默认好评' },
      { rating: 5 },
    );
  }
  return { task, id, events, stats, final: true, reporter, assignee: worker, claimedAt };
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
}

/** Writes tasks [from, to) of the year: hashes, logs, indexes, daily stats — what create/transition would leave. */
async function seedTasks(
  redis: Redis,
  prefix: string,
  config: Config,
  days: string[],
  from: number,
  to: number,
  total: number,
): Promise<void> {
  const k = makeKeys(prefix);
  const createdKey = `${prefix}:tasks:created`;
  const so: StatsOptions = { timezone: config.org.timezone, targets: targetsOf(config.sla) };
  const perDay = total / days.length;
  const BATCH = 2000;
  for (let start = from; start < to; start += BATCH) {
    const p = redis.pipeline();
    const sums = new Map<string, number>();
    for (let i = start; i < Math.min(to, start + BATCH); i++) {
      const id = i + 1;
      const dayIndex = Math.min(days.length - 1, Math.floor(i / perDay));
      const r = rng(id * 7919);
      const s = simulate(id, days[dayIndex], dayIndex >= days.length - 2, r, config, prefix, so);
      const fields = encodeTaskFields(Object.fromEntries(Object.entries(s.task).filter(([, v]) => v !== undefined)));
      p.hset(k.task(id), 'id', String(id), ...fields);
      p.rpush(k.taskLog(id), ...s.events.map((e) => JSON.stringify(e)));
      const createdAt = s.task.createdAt as number;
      p.zadd(s.final ? k.closed : k.active, s.final ? s.events.at(-1)!.at : createdAt, String(id));
      p.zadd(createdKey, createdAt, String(id));
      p.zadd(k.byPerson(s.reporter), createdAt, String(id));
      if (s.assignee) p.zadd(k.byPerson(s.assignee), s.claimedAt!, String(id));
      for (const [key, field, n] of s.stats)
        sums.set(`${key}\u0000${field}`, (sums.get(`${key}\u0000${field}`) ?? 0) + n);
    }
    for (const [kf, n] of sums) {
      const [key, field] = kf.split('\u0000');
      p.hincrby(key, field, n);
    }
    p.set(k.taskSeq, String(Math.min(to, start + BATCH)));
    await p.exec();
  }
}

/** Checklist sheets (records.ts) with `entries` items over the school days, and `ratings` meal ratings. */
async function seedRecords(
  redis: Redis,
  prefix: string,
  config: Config,
  days: string[],
  entries: number,
  ratings: number,
): Promise<void> {
  const rk = recordKeys(prefix);
  const perDay = Math.ceil(entries / days.length);
  const mealsPerDay = Math.ceil(ratings / days.length);
  const teachers = config.people.filter((p) => p.roles.includes('teacher')).map((p) => p.id);
  let made = 0;
  let rated = 0;
  for (const [di, date] of days.entries()) {
    const r = rng(di + 1);
    const p = redis.pipeline();
    let today = 0;
    for (let round = 0; today < perDay && made < entries; round++) {
      for (const c of config.checklists) {
        const areas = c.areas.length ? c.areas : [{ name: undefined, responsible: c.responsible!, place: undefined }];
        for (const [ai, a] of areas.entries()) {
          if (today >= perDay || made >= entries) break;
          const missed = r.chance(0.03);
          const at = dateAt(date, 480 + r.int(0, 400));
          const items = c.items.map((it) => {
            const bad = !missed && r.chance(0.02);
            const value =
              it.type === 'number' ? (bad ? (it.max ?? 0) + 10 : (it.min ?? 0)) : it.type === 'yesno' ? !bad : '正常';
            return {
              key: it.key,
              label: it.label,
              type: it.type,
              ...(it.unit ? { unit: it.unit } : {}),
              ...(missed ? {} : { value, ok: !bad, by: a.responsible, at }),
              ...(bad ? { note: '异常', task: r.int(1, 1000) } : {}),
            };
          });
          const sheet: ChecklistSheet = {
            id: `${c.id}.${round}.${ai}`,
            template: c.id,
            title: c.title,
            area: a.name ? (round ? `${a.name}${round + 1}` : a.name) : undefined,
            responsible: a.responsible,
            chat: c.chat,
            date,
            postedAt: at - HOUR,
            status: missed ? 'missed' : 'done',
            ...(missed ? {} : { doneAt: at }),
            items,
          };
          p.hset(rk.checklistDay(date), sheet.id, JSON.stringify(sheet));
          today += items.length;
          made += items.length;
        }
      }
    }
    for (let i = 0; i < mealsPerDay && rated < ratings; i++, rated++) {
      const rating = r.chance(0.85) ? r.int(4, 5) : r.int(1, 3);
      const f: MealFeedback = {
        at: dateAt(date, 760 + r.int(0, 120)),
        person: r.pick(teachers),
        meal: r.chance(0.6) ? '午餐' : '午点',
        rating,
        urgent: false,
        ...(rating <= 2 ? { text: '米饭太硬' } : {}),
      };
      p.rpush(rk.mealDay(date), JSON.stringify(f));
    }
    await p.exec();
  }
}

/** Runs the export of `month` in a fresh process; its peak RSS is then the export's own. */
// Without a cap V8 lets the heap grow with garbage before it collects, so the uncapped peak RSS says more about the
// collector than about what the export keeps; with the old space capped the peak shows the working set.
export const HEAP_CAP_MB = 96;

function exportInChild(
  prefix: string,
  month: string,
  mode: 'export' | 'baseline',
  heapCapMb?: number,
): Promise<{ ms: number; peakRssMb: number; tasks: number; events: number; bytes: number }> {
  return new Promise((resolvePromise, reject) => {
    const flags = heapCapMb ? [`--max-old-space-size=${heapCapMb}`] : [];
    const child = spawn(
      process.execPath,
      [...flags, join(ROOT, 'bin', 'run-ts.mjs'), join(ROOT, 'bench', 'ledger.ts'), `--child-${mode}`, prefix, month],
      { stdio: ['ignore', 'pipe', 'inherit'], env: process.env },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) =>
      code === 0
        ? resolvePromise(JSON.parse(out.trim().split('\n').at(-1)!))
        : reject(new Error(`export child exited with ${code}`)),
    );
  });
}

async function child(mode: 'export' | 'baseline', prefix: string, month: string): Promise<void> {
  const config = loadSettings({}, join(ROOT, 'config', 'example.yaml')).config;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  const tasks = new TaskStore(redis, prefix, { timezone: config.org.timezone });
  const dir = mkdtempSync(join(tmpdir(), 'houqin-ledger-'));
  const file = join(dir, `${month}.xlsx`);
  let res = { tasks: 0, events: 0 };
  const t0 = performance.now();
  try {
    if (mode === 'export')
      res = await exportMonth({ redis, tasks, config, roster: new Roster(config) }, month, createWriteStream(file));
    else await redis.ping();
    const ms = performance.now() - t0;
    const bytes = mode === 'export' ? statSync(file).size : 0;
    process.stdout.write(
      JSON.stringify({
        ms,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        tasks: res.tasks,
        events: res.events,
        bytes,
      }) + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    redis.disconnect();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchLedger(o: LedgerBenchOptions): Promise<LedgerFigures> {
  const config = loadSettings({}, join(ROOT, 'config', 'example.yaml')).config;
  const cal = new SchoolCalendar(config.calendar, config.org.timezone);
  const days = schoolDays(cal);
  const prefix = benchPrefix('ledger');
  config.redis.keyPrefix = prefix;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  const stop = () => void dropPrefix(prefix).finally(() => process.exit(130));
  process.once('SIGINT', stop);
  const perDay = o.tasks / days.length;
  const septTasks = Math.ceil(perDay * days.filter((d) => d.startsWith('2025-09')).length); // ids below this fall on a September day
  const figures: LedgerFigures = {
    tasks: o.tasks,
    schoolDays: days.length,
    seedSeconds: 0,
    redisBytesPerTask: 0,
    redisBytesPerTaskSampled: 0,
    activeTasks: 0,
    digestDayMs: { cold: 0, median: 0 },
    digestWeekMs: 0,
    digestMonthMs: 0,
    chartMs: 0,
    exports: [],
    baselineRssMb: 0,
    cappedBaselineRssMb: 0,
  };
  const measure = async (label: string, month: string, storeTasks: number) => {
    const e = await exportInChild(prefix, month, 'export');
    const c = await exportInChild(prefix, month, 'export', HEAP_CAP_MB);
    figures.exports.push({
      label,
      month,
      storeTasks,
      monthTasks: e.tasks,
      events: e.events,
      ms: e.ms,
      peakRssMb: e.peakRssMb,
      cappedMs: c.ms,
      cappedRssMb: c.peakRssMb,
      fileMb: e.bytes / 1048576,
    });
    log(
      `exported ${month} (${label}): ${e.tasks} tasks, ${e.events} events, ${e.ms.toFixed(0)} ms, peak RSS ${e.peakRssMb.toFixed(0)} MB; heap capped: ${c.ms.toFixed(0)} ms, ${c.peakRssMb.toFixed(0)} MB`,
    );
  };
  try {
    log(
      `ledger bench: prefix ${prefix}, ${o.tasks} tasks over ${days.length} school days (${days[0]} – ${days.at(-1)}), ${o.checklists} checklist entries, ${o.meals} meal ratings`,
    );
    const t0 = performance.now();
    const before = await usedMemory(redis);
    await seedTasks(redis, prefix, config, days, 0, septTasks, o.tasks);
    const septBytes = await usedMemory(redis);
    log(`seeded September: ${septTasks} tasks`);
    await seedRecords(redis, prefix, config, days, o.checklists, o.meals);

    figures.baselineRssMb = (await exportInChild(prefix, '2025-09', 'baseline')).peakRssMb;
    figures.cappedBaselineRssMb = (await exportInChild(prefix, '2025-09', 'baseline', HEAP_CAP_MB)).peakRssMb;
    await measure(`2025-09, ${septTasks} tasks in the store`, '2025-09', septTasks);

    const mid = await usedMemory(redis);
    await seedTasks(redis, prefix, config, days, septTasks, o.tasks, o.tasks);
    const after = await usedMemory(redis);
    figures.seedSeconds = (performance.now() - t0) / 1000;
    // Two windows of task seeding only (the records were written in between).
    figures.redisBytesPerTask = (septBytes - before + (after - mid)) / o.tasks;
    log(`seeded ${o.tasks} tasks in ${figures.seedSeconds.toFixed(1)} s`);

    // MEMORY USAGE of a sample of tasks (hash + log + their share of the zsets and stats), as a cross-check.
    const k = makeKeys(prefix);
    const sample = Array.from({ length: 500 }, (_, i) => 1 + Math.floor((i * o.tasks) / 500));
    let sampled = 0;
    for (const id of sample)
      sampled += ((await redis.memory('USAGE', k.task(id))) ?? 0) + ((await redis.memory('USAGE', k.taskLog(id))) ?? 0);
    let zsets = 0;
    for (const key of [k.active, k.closed, `${prefix}:tasks:created`])
      zsets += (await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0;
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:tasks:by:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of found) zsets += (await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0;
    } while (cursor !== '0');
    let stats = 0;
    for (const d of days) stats += (await redis.memory('USAGE', `${prefix}:stats:day:${d}`)) ?? 0;
    figures.redisBytesPerTaskSampled = sampled / sample.length + (zsets + stats) / o.tasks;

    // The digest, as the director gets it at 17:30 on the last day.
    const store = new TaskStore(redis, prefix, { timezone: config.org.timezone, targets: targetsOf(config.sla) });
    const roster = new Roster(config);
    const digests = digestsFor(store, roster, null);
    const last = days.at(-1)!;
    const now = dateAt(last, 17 * 60 + 30);
    figures.activeTasks = await redis.zcard(k.active);
    const runs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const s = performance.now();
      await digests.text('day', last, now);
      runs.push(performance.now() - s);
    }
    figures.digestDayMs = { cold: runs[0], median: median(runs.slice(1)) };
    let s = performance.now();
    await digests.text('week', last, now);
    figures.digestWeekMs = performance.now() - s;
    s = performance.now();
    await digests.text('month', last, now);
    figures.digestMonthMs = performance.now() - s;
    s = performance.now();
    const composed = await digestsFor(store, roster).compose('month', last, now);
    figures.chartMs = performance.now() - s - figures.digestMonthMs;
    if (!composed.image) log('no chart was drawn');
    log(
      `digest: day ${figures.digestDayMs.median.toFixed(1)} ms (cold ${figures.digestDayMs.cold.toFixed(1)}), week ${figures.digestWeekMs.toFixed(1)} ms, month ${figures.digestMonthMs.toFixed(1)} ms`,
    );

    // The same month with the whole year stored, and the busiest month.
    await measure(`2025-09, ${o.tasks} tasks in the store`, '2025-09', o.tasks);
    const byMonth = new Map<string, number>();
    for (const d of days) byMonth.set(d.slice(0, 7), (byMonth.get(d.slice(0, 7)) ?? 0) + 1);
    const busiest = [...byMonth.entries()].filter(([m]) => m !== '2025-09').sort((a, b) => b[1] - a[1])[0][0];
    const quiet = [...byMonth.entries()].sort((a, b) => a[1] - b[1])[0][0];
    for (const [label, month] of [
      ['busiest', busiest],
      ['quietest', quiet],
    ] as const)
      await measure(`${month} (${label}), ${o.tasks} in the store`, month, o.tasks);
    return figures;
  } finally {
    process.off('SIGINT', stop);
    redis.disconnect();
    if (!o.keep) log(`removed ${await dropPrefix(prefix)} keys under ${prefix}`);
    else log(`kept the data under ${prefix}`);
  }
}

export function printLedger(f: LedgerFigures): void {
  const out = (l: string) => process.stdout.write(l + '\n');
  const ok = (v: boolean) => (v ? 'ok' : 'MISSED');
  out(
    `\nDigest and ledger over a seeded school year: ${f.tasks} tasks with histories, ${f.schoolDays} school days (seeded in ${f.seedSeconds.toFixed(1)} s)`,
  );
  out(
    `  Redis memory per stored task     ${f.redisBytesPerTask.toFixed(0)} B (INFO used_memory Δ ÷ tasks; MEMORY USAGE sample ${f.redisBytesPerTaskSampled.toFixed(0)} B)   target < 2048 B  ${ok(f.redisBytesPerTask < 2048)}`,
  );
  out(
    `  daily digest                     ${f.digestDayMs.median.toFixed(1)} ms median of 5 (first ${f.digestDayMs.cold.toFixed(1)} ms; ${f.activeTasks} open tasks)   target < 1000 ms  ${ok(f.digestDayMs.cold < 1000)}`,
  );
  out(
    `  weekly / monthly digest text     ${f.digestWeekMs.toFixed(1)} / ${f.digestMonthMs.toFixed(1)} ms; chart (echarts SVG → resvg PNG, CJK font) ${f.chartMs.toFixed(0)} ms`,
  );
  out(
    `  monthly export, each in a fresh child process; baseline RSS of a child that only loads and connects: ${f.baselineRssMb.toFixed(0)} MB (${f.cappedBaselineRssMb.toFixed(0)} MB with --max-old-space-size=${HEAP_CAP_MB})`,
  );
  out(
    `    ${'month, tasks in the store'.padEnd(40)} ${'tasks'.padStart(6)} ${'events'.padStart(7)} ${'time'.padStart(7)} ${'rows/s'.padStart(7)} ${'peak RSS'.padStart(9)} ${'capped: time'.padStart(13)} ${'peak RSS'.padStart(9)} ${'file'.padStart(7)}`,
  );
  for (const e of f.exports) {
    out(
      `    ${e.label.padEnd(40)} ${String(e.monthTasks).padStart(6)} ${String(e.events).padStart(7)} ${(e.ms / 1000).toFixed(2).padStart(6)}s ${Math.round(
        (e.monthTasks + e.events) / (e.ms / 1000),
      )
        .toString()
        .padStart(
          7,
        )} ${e.peakRssMb.toFixed(0).padStart(6)} MB ${(e.cappedMs / 1000).toFixed(2).padStart(12)}s ${e.cappedRssMb.toFixed(0).padStart(6)} MB ${e.fileMb.toFixed(1).padStart(5)}MB`,
    );
  }
  const [a, b] = f.exports;
  if (a && b)
    out(
      `    same month with ${(b.storeTasks / a.storeTasks).toFixed(1)}× the tasks in the store: time ×${(b.ms / a.ms).toFixed(2)}, peak RSS ×${(b.peakRssMb / a.peakRssMb).toFixed(2)} (capped ×${(b.cappedRssMb / a.cappedRssMb).toFixed(2)})`,
    );
  const sizes = f.exports.map((e) => e.monthTasks);
  const capped = f.exports.map((e) => e.cappedRssMb);
  const slowest = Math.max(...f.exports.map((e) => e.ms));
  out(
    `    months of ${Math.min(...sizes)}–${Math.max(...sizes)} tasks: peak RSS with the heap capped ${Math.min(...capped).toFixed(0)}–${Math.max(...capped).toFixed(0)} MB; slowest ${(slowest / 1000).toFixed(1)} s   target < 30 s  ${ok(slowest < 30_000)}`,
  );
}

// ── standalone ───────────────────────────────────────────────────────────────────────────────────────────────
const self = process.argv.findIndex((a) => /ledger\.ts$/.test(a));
if (self >= 0) {
  const args = process.argv.slice(self + 1);
  const childMode = args[0] === '--child-export' ? 'export' : args[0] === '--child-baseline' ? 'baseline' : undefined;
  const num = (name: string, d: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const main = childMode
    ? child(childMode, args[1], args[2])
    : benchLedger({
        tasks: num('tasks', 100_000),
        checklists: num('checklists', 40_000),
        meals: num('meals', 20_000),
        keep: args.includes('--keep'),
      }).then(printLedger);
  main.catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}
