// Running aggregates for the digest: one small hash per school-day date (<prefix>:stats:day:<YYYY-MM-DD>, in the
// school's time zone), bumped inside the same Lua script as each task change (TaskStore), so the digest reads a
// handful of hashes instead of scanning tasks. This file computes what to bump — pure functions of the task before
// the change and the step — and reads the hashes and the day records back for the digest.
//
// Fields (k = repair | cleaning | meal, p = a person id):
//   rep:k urg:k          reported, of which urgent                  (day the task was created)
//   clm:k clmms:k clmlate:k   first claims (claimed or assigned from open), sum of ms from report, claims past target
//   fin:k finms:k finlate:k   first finishes, sum of ms from report, finishes past target
//   acc:k auto:k         accepted (by hand, by rating, automatically), of which automatically (默认好评)
//   rat:k rats:k         ratings given and their sum (a changed rating moves the sum only)
//   rwk:k can:k          sent back for rework, cancelled
//   w:p:fin w:p:rs w:p:rn w:p:rwk   per worker: first finishes, rating sum and count, rework
// Each step lands on the date of its own event, so a day's hash says what happened that day.
import type { Redis } from 'ioredis';
import type { ChecklistSheet, MealFeedback } from '../domain/records.js';
import { recordKeys } from '../domain/records.js';
import type { Task, TaskEvent } from '../domain/tasks/task.js';
import { openAt } from '../domain/tasks/history.js';

/** One HINCRBY: key, field, amount. */
export type StatsTriple = [key: string, field: string, amount: number];

export interface Targets {
  claim: number; // ms
  finish: number; // ms
}

export interface StatsOptions {
  timezone: string;
  /** SLA targets per urgency; without them no late counts are kept. */
  targets?: { normal: Targets; urgent: Targets };
}

export const defaultStatsOptions: StatsOptions = { timezone: 'Asia/Shanghai' };

export const statsDayKey = (prefix: string, date: string) => `${prefix}:stats:day:${date}`;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** YYYY-MM-DD of an instant in a time zone (formatters are cached: this runs on every task change). */
export function dayOf(at: number, timezone: string): string {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timezone, f);
  }
  return f.format(new Date(at));
}

type Before = Pick<Task, 'kind' | 'urgent' | 'createdAt' | 'state' | 'doneCount' | 'assignee' | 'rating'>;

/** What a new task adds: one report of its kind on the day it was made. */
export function createDeltas(
  prefix: string,
  t: Pick<Task, 'kind' | 'urgent' | 'createdAt'>,
  o: StatsOptions,
): StatsTriple[] {
  const key = statsDayKey(prefix, dayOf(t.createdAt, o.timezone));
  const out: StatsTriple[] = [[key, `rep:${t.kind}`, 1]];
  if (t.urgent) out.push([key, `urg:${t.kind}`, 1]);
  return out;
}

/**
 * What one step adds, from the task as it was before the step and the change requested. The step is known by its
 * history entry's type (claimed, assigned, done, rated …), which the service and the timers always set.
 */
export function transitionDeltas(
  prefix: string,
  before: Before,
  change: { event: Pick<TaskEvent, 'at' | 'type' | 'rating'>; set?: Partial<Record<keyof Task, unknown>> },
  o: StatsOptions,
): StatsTriple[] {
  const { event } = change;
  const key = statsDayKey(prefix, dayOf(event.at, o.timezone));
  const k = before.kind;
  const out: StatsTriple[] = [];
  const add = (field: string, n: number) => {
    if (n !== 0) out.push([key, field, Math.round(n)]);
  };
  const target = o.targets ? (before.urgent ? o.targets.urgent : o.targets.normal) : undefined;
  const since = Math.max(0, event.at - before.createdAt);
  const assignee = (typeof change.set?.assignee === 'string' ? change.set.assignee : undefined) ?? before.assignee;
  const rate = (rating: number) => {
    if (before.rating === undefined) {
      add(`rat:${k}`, 1);
      add(`rats:${k}`, rating);
      if (assignee) {
        add(`w:${assignee}:rn`, 1);
        add(`w:${assignee}:rs`, rating);
      }
    } else {
      // A changed rating: the sum moves, the count stays (it was counted on the day of the first rating).
      add(`rats:${k}`, rating - before.rating);
      if (assignee) add(`w:${assignee}:rs`, rating - before.rating);
    }
  };
  switch (event.type) {
    case 'claimed':
    case 'assigned':
      if (before.state !== 'open') break; // a resumed or re-assigned task was claimed before
      add(`clm:${k}`, 1);
      add(`clmms:${k}`, since);
      if (target && since > target.claim) add(`clmlate:${k}`, 1);
      break;
    case 'done':
      if (before.doneCount > 0) break; // finished again after rework: counted as rework, not as a new finish
      add(`fin:${k}`, 1);
      add(`finms:${k}`, since);
      if (target && since > target.finish) add(`finlate:${k}`, 1);
      if (assignee) add(`w:${assignee}:fin`, 1);
      break;
    case 'reopened':
      add(`rwk:${k}`, 1);
      if (assignee) add(`w:${assignee}:rwk`, 1);
      break;
    case 'accepted':
      add(`acc:${k}`, 1);
      break;
    case 'auto_accepted':
      add(`acc:${k}`, 1);
      add(`auto:${k}`, 1);
      if (typeof event.rating === 'number') rate(event.rating);
      break;
    case 'rated':
      if (before.state === 'done') add(`acc:${k}`, 1); // rating a finished task accepts it
      if (typeof event.rating === 'number') rate(event.rating);
      break;
    case 'cancelled':
      add(`can:${k}`, 1);
      break;
  }
  return out;
}

// ── reading back ──────────────────────────────────────────────────────────────────────────────────────────────

export type DayStats = Record<string, number>;

/** The digest's view of storage (see domain/digest/); implemented over Redis below. */
export interface DigestSource {
  days(dates: string[]): Promise<Map<string, DayStats>>;
  /** Open work (tasks:active), oldest first, at most `limit`; `total` counts them all. */
  active(limit: number): Promise<{ tasks: Task[]; total: number }>;
  /**
   * Open work as it was at an earlier instant: tasks reported by then and not yet accepted or cancelled, each with its
   * state at that time, oldest first, at most `limit`; `total` counts them all.
   */
  openAt(at: number, limit: number): Promise<{ tasks: Task[]; total: number }>;
  checklists(dates: string[]): Promise<ChecklistSheet[]>;
  meals(dates: string[]): Promise<MealFeedback[]>;
}

interface TaskReader {
  active(limit: number): Promise<Task[]>;
  getMany(ids: number[]): Promise<Task[]>;
  histories(ids: number[]): Promise<TaskEvent[][]>;
  readonly k: { active: string; closed: string; task(id: number): string };
  readonly createdKey: string;
}

const BATCH = 500;

export class RedisDigestSource implements DigestSource {
  private rk: ReturnType<typeof recordKeys>;

  constructor(
    private redis: Redis,
    private prefix: string,
    private tasks: TaskReader,
  ) {
    this.rk = recordKeys(prefix);
  }

  async days(dates: string[]): Promise<Map<string, DayStats>> {
    const p = this.redis.pipeline();
    for (const d of dates) p.hgetall(statsDayKey(this.prefix, d));
    const res = (await p.exec()) ?? [];
    const out = new Map<string, DayStats>();
    dates.forEach((d, i) => {
      const h = (res[i]?.[1] ?? {}) as Record<string, string>;
      const stats: DayStats = {};
      for (const [f, v] of Object.entries(h)) stats[f] = Number(v);
      out.set(d, stats);
    });
    return out;
  }

  async active(limit: number): Promise<{ tasks: Task[]; total: number }> {
    const [tasks, total] = await Promise.all([this.tasks.active(limit), this.redis.zcard(this.tasks.k.active)]);
    return { tasks, total };
  }

  /**
   * Who could have been open at `at`: tasks still active now that were reported by then (tasks:active is scored by
   * report time), and tasks closed since then (tasks:closed is scored by the last closing step) that were reported by
   * then. The second set is found from whichever side is smaller — closed after `at`, or reported by `at` — in
   * batches, so a date long ago costs what that date needs. Each candidate's history then says its state at `at`.
   */
  async openAt(at: number, limit: number): Promise<{ tasks: Task[]; total: number }> {
    const ids = (await this.redis.zrangebyscore(this.tasks.k.active, '-inf', at)).map(Number);
    const [closedAfter, createdBefore] = await Promise.all([
      this.redis.zcount(this.tasks.k.closed, `(${at}`, '+inf'),
      this.redis.zcount(this.tasks.createdKey, '-inf', at),
    ]);
    const fromClosed = closedAfter <= createdBefore;
    const key = fromClosed ? this.tasks.k.closed : this.tasks.createdKey;
    const [min, max] = fromClosed ? [`(${at}`, '+inf'] : ['-inf', String(at)];
    for (let offset = 0; ; offset += BATCH) {
      const batch = await this.redis.zrangebyscore(key, min, max, 'LIMIT', offset, BATCH);
      if (!batch.length) break;
      const p = this.redis.pipeline();
      // Closed after `at`: was it reported by then? Reported by `at`: was it closed after (not still active, not before)?
      for (const id of batch)
        fromClosed ? p.hget(this.tasks.k.task(Number(id)), 'createdAt') : p.zscore(this.tasks.k.closed, id);
      const res = (await p.exec()) ?? [];
      batch.forEach((id, i) => {
        const v = res[i]?.[1] as string | null | undefined;
        if (v !== null && v !== undefined && (fromClosed ? Number(v) <= at : Number(v) > at)) ids.push(Number(id));
      });
      if (batch.length < BATCH) break;
    }
    const open: Task[] = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const chunk = ids.slice(i, i + BATCH);
      const [tasks, histories] = await Promise.all([this.tasks.getMany(chunk), this.tasks.histories(chunk)]);
      const history = new Map(chunk.map((id, j) => [id, histories[j]]));
      for (const t of tasks) {
        const then = openAt(t, history.get(t.id) ?? [], at);
        if (then) open.push(then);
      }
    }
    open.sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    return { tasks: open.slice(0, limit), total: open.length };
  }

  async checklists(dates: string[]): Promise<ChecklistSheet[]> {
    const p = this.redis.pipeline();
    for (const d of dates) p.hvals(this.rk.checklistDay(d));
    const res = (await p.exec()) ?? [];
    const out: ChecklistSheet[] = [];
    for (const [, vals] of res) for (const v of (vals ?? []) as string[]) out.push(JSON.parse(v) as ChecklistSheet);
    return out.sort((a, b) => a.date.localeCompare(b.date) || a.id.localeCompare(b.id));
  }

  async meals(dates: string[]): Promise<MealFeedback[]> {
    const p = this.redis.pipeline();
    for (const d of dates) p.lrange(this.rk.mealDay(d), 0, -1);
    const res = (await p.exec()) ?? [];
    const out: MealFeedback[] = [];
    for (const [, vals] of res) for (const v of (vals ?? []) as string[]) out.push(JSON.parse(v) as MealFeedback);
    return out;
  }
}

/** The SLA targets of a config section, in the shape the stats want. */
export function targetsOf(sla: {
  normal: { claimTarget: number; finishTarget: number };
  urgent: { claimTarget: number; finishTarget: number };
}): StatsOptions['targets'] {
  return {
    normal: { claim: sla.normal.claimTarget, finish: sla.normal.finishTarget },
    urgent: { claim: sla.urgent.claimTarget, finish: sla.urgent.finishTarget },
  };
}
