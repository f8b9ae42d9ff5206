// The director's digest (日报) and the weekly / monthly summaries (周报 / 月报), the figures: pure functions from
// what was read (daily stats hashes, open tasks, checklist sheets, meal feedback) to numbers. render.ts turns them
// into the text. Reading is service.ts's job; nothing here does I/O.
import { builtInKinds, type Kind } from '../../config/schema.js';
import { addDays } from '../../scheduler/calendar.js';
import type { ChecklistSheet, MealFeedback } from '../records.js';
import type { KindInfo } from '../kinds.js';
import type { Task } from '../tasks/task.js';

export type Period = 'day' | 'week' | 'month';

export interface Span {
  from: string; // YYYY-MM-DD, inclusive
  to: string; // inclusive
  dates: string[];
}

export interface Targets {
  normal: { claim: number; finish: number };
  urgent: { claim: number; finish: number };
}

// ── periods ───────────────────────────────────────────────────────────────────────────────────────────────────

function span(from: string, to: string): Span {
  const dates: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) dates.push(d);
  return { from, to, dates };
}

const daysInMonth = (ym: string) => new Date(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(5, 7)), 0)).getUTCDate();

/**
 * The days a digest covers, and the days it is compared with. day: that date. week: the seven days ending on it
 * (a Friday's 周报 covers Saturday to Friday, so weekend reports are never left out), compared with the seven before.
 * month: the 1st to that date, compared with the same days of the month before (as many as it has).
 */
export function spanOf(period: Period, date: string): { span: Span; prev?: Span } {
  if (period === 'day') return { span: span(date, date) };
  if (period === 'week')
    return { span: span(addDays(date, -6), date), prev: span(addDays(date, -13), addDays(date, -7)) };
  const first = `${date.slice(0, 8)}01`;
  const prevFirst = addDays(first, -1).slice(0, 8) + '01';
  const prevDay = Math.min(Number(date.slice(8, 10)), daysInMonth(prevFirst.slice(0, 7)));
  return {
    span: span(first, date),
    prev: span(prevFirst, `${prevFirst.slice(0, 8)}${String(prevDay).padStart(2, '0')}`),
  };
}

// ── task figures from the daily stats hashes (store/stats.ts) ─────────────────────────────────────────────────

export interface KindFigures {
  reported: number;
  urgent: number;
  claimed: number;
  claimMs: number;
  claimLate: number;
  finished: number;
  finishMs: number;
  finishLate: number;
  accepted: number;
  autoAccepted: number;
  ratings: number;
  ratingSum: number;
  rework: number;
  cancelled: number;
}

export interface WorkerFigures {
  finished: number;
  ratings: number;
  ratingSum: number;
  rework: number;
}

export interface Totals {
  /** One entry per kind of the site (built-in and the config's own), zero when nothing happened. */
  kinds: Record<Kind, KindFigures>;
  all: KindFigures;
  workers: Record<string, WorkerFigures>;
}

const kindField: Record<string, keyof KindFigures> = {
  rep: 'reported',
  urg: 'urgent',
  clm: 'claimed',
  clmms: 'claimMs',
  clmlate: 'claimLate',
  fin: 'finished',
  finms: 'finishMs',
  finlate: 'finishLate',
  acc: 'accepted',
  auto: 'autoAccepted',
  rat: 'ratings',
  rats: 'ratingSum',
  rwk: 'rework',
  can: 'cancelled',
};
const workerField: Record<string, keyof WorkerFigures> = {
  fin: 'finished',
  rn: 'ratings',
  rs: 'ratingSum',
  rwk: 'rework',
};

const zeroKind = (): KindFigures => ({
  reported: 0,
  urgent: 0,
  claimed: 0,
  claimMs: 0,
  claimLate: 0,
  finished: 0,
  finishMs: 0,
  finishLate: 0,
  accepted: 0,
  autoAccepted: 0,
  ratings: 0,
  ratingSum: 0,
  rework: 0,
  cancelled: 0,
});

/** The kind ids the digest shows by default: the built-in three. A site's own are passed in (kinds.ts kindsOf). */
const defaultKinds: readonly Kind[] = builtInKinds;

/**
 * Adds up daily stats hashes (field → number) into figures per kind, in all, and per worker. Figures of a kind not in
 * `kinds` (one since removed from the config) are left out.
 */
export function totals(days: Record<string, number>[], kinds: readonly Kind[] = defaultKinds): Totals {
  const out: Totals = {
    kinds: Object.fromEntries(kinds.map((k) => [k, zeroKind()])),
    all: zeroKind(),
    workers: {},
  };
  for (const day of days) {
    for (const [field, n] of Object.entries(day)) {
      const parts = field.split(':');
      if (parts[0] === 'w' && parts.length === 3) {
        const f = workerField[parts[2]];
        if (!f) continue;
        const w = (out.workers[parts[1]] ??= { finished: 0, ratings: 0, ratingSum: 0, rework: 0 });
        w[f] += n;
        continue;
      }
      const f = kindField[parts[0]];
      const k = parts[1];
      if (!f || parts.length !== 2 || !Object.hasOwn(out.kinds, k)) continue;
      out.kinds[k][f] += n;
      out.all[f] += n;
    }
  }
  return out;
}

// ── open work (tasks:active) ──────────────────────────────────────────────────────────────────────────────────

export interface OpenWork {
  /** All tasks still active, by state (待接单 / 处理中 / 挂起 / 待验收). */
  counts: { open: number; claimed: number; on_hold: number; done: number };
  /** Not claimed within the claim target, or not finished within the finish target, counted from the report. */
  overdue: Record<Kind, number>;
  overdueTotal: number;
  /** The oldest unfinished tasks, oldest first. */
  oldest: { task: Task; ageMs: number; overdue: boolean }[];
  /** Active tasks not read (beyond the reader's limit). */
  unread: number;
}

export function isOverdue(t: Task, targets: Targets, now: number): boolean {
  const target = t.urgent ? targets.urgent : targets.normal;
  if (t.state === 'open') return now - t.createdAt > target.claim;
  if (t.state === 'claimed' || t.state === 'on_hold') return now - t.createdAt > target.finish;
  return false;
}

export function openWork(
  active: Task[],
  total: number,
  targets: Targets,
  now: number,
  oldestShown = 3,
  kinds: readonly Kind[] = defaultKinds,
): OpenWork {
  const counts = { open: 0, claimed: 0, on_hold: 0, done: 0 };
  const overdue: Record<Kind, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
  let overdueTotal = 0;
  const unfinished: Task[] = [];
  for (const t of active) {
    if (t.state in counts) counts[t.state as keyof typeof counts]++;
    if (isOverdue(t, targets, now)) {
      overdue[t.kind] = (overdue[t.kind] ?? 0) + 1;
      overdueTotal++;
    }
    if (t.state === 'open' || t.state === 'claimed' || t.state === 'on_hold') unfinished.push(t);
  }
  const oldest = unfinished
    .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id)
    .slice(0, oldestShown)
    .map((task) => ({ task, ageMs: now - task.createdAt, overdue: isOverdue(task, targets, now) }));
  return {
    counts,
    overdue,
    overdueTotal,
    oldest,
    unread: Math.max(0, total - active.length),
  };
}

// ── checklists and meals (domain/records.ts) ──────────────────────────────────────────────────────────────────

export interface ChecklistFigures {
  sheets: number;
  done: number;
  missed: number;
  pending: number; // posted, not yet done or missed
  withFailures: number;
  failures: { date: string; sheet: string; item: string; value?: string; task?: number }[];
  missedSheets: { date: string; sheet: string; responsible: string }[];
}

const sheetName = (s: ChecklistSheet) => (s.area ? `${s.title}·${s.area}` : s.title);

function valueText(e: ChecklistSheet['items'][number]): string | undefined {
  if (e.value === undefined || e.value === '') return undefined;
  if (e.type === 'yesno') return e.value === true || e.value === 'true' ? '正常' : '异常';
  return `${e.value}${e.unit ?? ''}`;
}

export function checklistFigures(sheets: ChecklistSheet[]): ChecklistFigures {
  const out: ChecklistFigures = {
    sheets: sheets.length,
    done: 0,
    missed: 0,
    pending: 0,
    withFailures: 0,
    failures: [],
    missedSheets: [],
  };
  for (const s of sheets) {
    if (s.status === 'done') out.done++;
    else if (s.status === 'missed') {
      out.missed++;
      out.missedSheets.push({ date: s.date, sheet: sheetName(s), responsible: s.responsible });
    } else out.pending++;
    const failed = s.items.filter((i) => i.ok === false);
    if (failed.length) out.withFailures++;
    for (const i of failed)
      out.failures.push({ date: s.date, sheet: sheetName(s), item: i.label, value: valueText(i), task: i.task });
  }
  return out;
}

export interface MealFigures {
  count: number; // feedback entries
  rated: number; // entries with a score
  average?: number;
  meals: { meal: string; rated: number; average?: number }[];
  /** Food-safety words first, then low scores, then the rest with a comment: at most `notableShown`. */
  notable: MealFeedback[];
  notableTotal: number;
}

export function mealFigures(feedback: MealFeedback[], lowRating: number, notableShown = 3): MealFigures {
  const byMeal = new Map<string, { rated: number; sum: number }>();
  let rated = 0;
  let sum = 0;
  for (const f of feedback) {
    const m = byMeal.get(f.meal ?? '其他') ?? { rated: 0, sum: 0 };
    byMeal.set(f.meal ?? '其他', m);
    if (typeof f.rating === 'number') {
      m.rated++;
      m.sum += f.rating;
      rated++;
      sum += f.rating;
    }
  }
  const notableAll = feedback
    .filter((f) => f.urgent || (typeof f.rating === 'number' && f.rating <= lowRating))
    .sort((a, b) => Number(b.urgent) - Number(a.urgent) || (a.rating ?? 9) - (b.rating ?? 9) || a.at - b.at);
  return {
    count: feedback.length,
    rated,
    average: rated ? sum / rated : undefined,
    meals: [...byMeal.entries()]
      .filter(([, m]) => m.rated > 0)
      .map(([meal, m]) => ({ meal, rated: m.rated, average: m.sum / m.rated })),
    notable: notableAll.slice(0, notableShown),
    notableTotal: notableAll.length,
  };
}

// ── per-day series (the chart) ────────────────────────────────────────────────────────────────────────────────

export interface DailySeries {
  dates: string[];
  reported: Record<Kind, number[]>;
  /** Average time from report to finish of the tasks finished that day, in hours (null: none finished). */
  finishHours: (number | null)[];
}

export function dailySeries(
  dates: string[],
  days: Map<string, Record<string, number>>,
  kinds: readonly Kind[] = defaultKinds,
): DailySeries {
  const reported: Record<Kind, number[]> = Object.fromEntries(kinds.map((k) => [k, []]));
  const finishHours: (number | null)[] = [];
  for (const d of dates) {
    const t = totals([days.get(d) ?? {}], kinds);
    for (const k of kinds) reported[k].push(t.kinds[k].reported);
    finishHours.push(t.all.finished ? Math.round((t.all.finishMs / t.all.finished / 3_600_000) * 10) / 10 : null);
  }
  return { dates, reported, finishHours };
}

// ── the figures of one digest ─────────────────────────────────────────────────────────────────────────────────

export interface DigestFigures {
  org: string;
  /** The site's kinds with their names, in the order shown (default: the built-in three). */
  kinds?: readonly KindInfo[];
  period: Period;
  span: Span;
  prev?: Span;
  now: number;
  targets: Targets;
  tasks: Totals;
  prevTasks?: Totals;
  open: OpenWork;
  checklists: ChecklistFigures;
  prevChecklists?: ChecklistFigures;
  meals: MealFigures;
  prevMeals?: MealFigures;
}
