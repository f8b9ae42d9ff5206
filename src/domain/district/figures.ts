// The district's own view (区域汇总, issue 15), the figures: per site, the handful of numbers a bureau compares
// sites by, made from the same pieces as the site's own digest (domain/digest/figures.ts: the daily stats totals,
// open work against the SLA targets, checklist and meal figures), and the district's totals and ranking. Pure
// functions; reading is service.ts's job.
import { addDays, weekday } from '../../scheduler/calendar.js';
import type { ChecklistFigures, MealFigures, OpenWork, Span, Totals } from '../digest/figures.js';
import type { MealFeedback } from '../records.js';

/** One site's figures for a period, and its open work at the moment they were made. */
export interface SiteFigures {
  /** The tenant id (its file name in the district folder). */
  id: string;
  /** org.name of its config. */
  name: string;
  timezone: string;
  /** Tasks reported in the period, every kind (报修, 保洁, 餐评 and the site's own). */
  reported: number;
  urgent: number;
  cancelled: number;
  /** First finishes in the period (完工), and of those the ones later than the finish target (normal or urgent). */
  finished: number;
  finishedLate: number;
  /** finished − finishedLate: finished within target, as the site's digest counts it. */
  inTarget: number;
  /** Unfinished work now (待接单, 处理中, 挂起). */
  open: number;
  /** Of the open work, how much is past its claim or finish target now (the site digest's 超时). */
  overdue: number;
  /** Open tasks beyond what was read (the reader's limit): not looked at for overdue. */
  uncounted: number;
  /** Checklist sheets of the period: all, done, missed (漏检), with failed items. */
  checklists: number;
  checklistsDone: number;
  missed: number;
  withFailures: number;
  /** Meal feedback entries; food-safety ones (illness, danger, spoiled food: the meal module marks them urgent). */
  meals: number;
  foodSafety: number;
  /** Food-safety remarks and low scores (≤ meals.lowRating): what the site's digest lists under 膳食. */
  mealComplaints: number;
  mealRated: number;
  mealRatingSum: number;
  /** Ratings of finished work (评价) given in the period. */
  ratings: number;
  ratingSum: number;
}

export type Figures = Omit<SiteFigures, 'id' | 'name' | 'timezone'>;

/** A site's figures from what its digest computes (figures.ts) for the same dates. */
export function siteFigures(
  site: { id: string; name: string; timezone: string },
  tasks: Totals,
  open: OpenWork,
  checklists: ChecklistFigures,
  meals: MealFigures,
  feedback: MealFeedback[],
): SiteFigures {
  const a = tasks.all;
  return {
    ...site,
    reported: a.reported,
    urgent: a.urgent,
    cancelled: a.cancelled,
    finished: a.finished,
    finishedLate: a.finishLate,
    inTarget: Math.max(0, a.finished - a.finishLate),
    open: open.counts.open + open.counts.claimed + open.counts.on_hold,
    overdue: open.overdueTotal,
    uncounted: open.unread,
    checklists: checklists.sheets,
    checklistsDone: checklists.done,
    missed: checklists.missed,
    withFailures: checklists.withFailures,
    meals: meals.count,
    foodSafety: feedback.filter((f) => f.urgent).length,
    mealComplaints: meals.notableTotal,
    mealRated: meals.rated,
    // The sum is kept, not the average, so that the district's average weighs each rating once.
    mealRatingSum: feedback.reduce((s, f) => s + (typeof f.rating === 'number' ? f.rating : 0), 0),
    ratings: a.ratings,
    ratingSum: a.ratingSum,
  };
}

const counted: (keyof Figures)[] = [
  'reported',
  'urgent',
  'cancelled',
  'finished',
  'finishedLate',
  'inTarget',
  'open',
  'overdue',
  'uncounted',
  'checklists',
  'checklistsDone',
  'missed',
  'withFailures',
  'meals',
  'foodSafety',
  'mealComplaints',
  'mealRated',
  'mealRatingSum',
  'ratings',
  'ratingSum',
];

/** The district's totals: sums; shares and averages are then taken from the sums (each task or rating once). */
export function districtTotals(sites: readonly SiteFigures[]): Figures {
  const out = Object.fromEntries(counted.map((k) => [k, 0])) as Figures;
  for (const s of sites) for (const k of counted) out[k] += s[k];
  return out;
}

/** Share of the period's finished work finished within target, 0–1; undefined when nothing was finished. */
export const inTargetShare = (f: Figures): number | undefined => (f.finished ? f.inTarget / f.finished : undefined);
export const mealAverage = (f: Figures): number | undefined =>
  f.mealRated ? f.mealRatingSum / f.mealRated : undefined;
export const ratingAverage = (f: Figures): number | undefined => (f.ratings ? f.ratingSum / f.ratings : undefined);

/** What the bureau looks at first: overdue work now, checklists missed, food-safety complaints. */
export const problems = (f: Figures): number => f.overdue + f.missed + f.foodSafety;
export const needsAttention = (f: Figures): boolean => problems(f) > 0;

/**
 * Worst first: the most problems (overdue + missed + food safety, each counted once), then by overdue, missed, food
 * safety, low scores and the lowest share finished in target; the tenant id last, so the order is stable.
 */
export function rankSites(sites: readonly SiteFigures[]): SiteFigures[] {
  const share = (s: SiteFigures) => inTargetShare(s) ?? 2; // nothing finished: not behind
  return [...sites].sort(
    (a, b) =>
      problems(b) - problems(a) ||
      b.overdue - a.overdue ||
      b.missed - a.missed ||
      b.foodSafety - a.foodSafety ||
      b.mealComplaints - a.mealComplaints ||
      share(a) - share(b) ||
      a.id.localeCompare(b.id),
  );
}

// ── periods ───────────────────────────────────────────────────────────────────────────────────────────────────

function spanOf(from: string, to: string): Span {
  const dates: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) dates.push(d);
  return { from, to, dates };
}

/** The Monday-to-Sunday week that holds `date`. */
export function weekOf(date: string): Span {
  const monday = addDays(date, 1 - weekday(date));
  return spanOf(monday, addDays(monday, 6));
}

/** The last whole Monday-to-Sunday week before the one that holds `today`. */
export const lastWeek = (today: string): Span => weekOf(addDays(today, -7));

/** A month, YYYY-MM, as its dates. */
export function monthOf(month: string): Span {
  const [y, m] = month.split('-').map(Number);
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return spanOf(`${month}-01`, `${month}-${String(days).padStart(2, '0')}`);
}

/**
 * The district's time zone, which decides what "today" and "last week" are: the one most of its sites have (ties:
 * the first site's). Each site is still read by its own calendar dates, so a site elsewhere gets its own
 * Monday-to-Sunday; `mixed` says that happened, and the summary says so.
 */
export function districtTimezone(timezones: readonly string[]): { timezone: string; mixed: boolean } {
  const count = new Map<string, number>();
  for (const tz of timezones) count.set(tz, (count.get(tz) ?? 0) + 1);
  let timezone = timezones[0] ?? 'Asia/Shanghai';
  for (const [tz, n] of count) if (n > (count.get(timezone) ?? 0)) timezone = tz;
  return { timezone, mixed: count.size > 1 };
}
