// Makes a digest: reads what it needs through a DigestSource (a handful of day hashes, the open tasks, the day
// records), computes the figures with the pure functions of figures.ts, renders the text (render.ts) and, for weekly
// and monthly summaries, the chart. The scheduled jobs, 日报/周报/月报 in chat and `houqin digest` all come through here.
import type { Config } from '../../config/schema.js';
import type { DigestSource } from '../../store/stats.js';
import { dayOf, RedisDigestSource } from '../../store/stats.js';
import type { TaskStore } from '../../store/tasks.js';
import {
  checklistFigures,
  dailySeries,
  mealFigures,
  openWork,
  spanOf,
  totals,
  type DigestFigures,
  type Period,
  type Span,
  type Targets,
} from './figures.js';
import { periodTitle, renderDigest } from './render.js';
import { chartPng, type ChartFont } from './chart.js';
import { builtInKindList, type KindInfo } from '../kinds.js';
import type { Message } from '../messages.js';
import type { Roster } from '../roster.js';
import { addDays } from '../../scheduler/calendar.js';
import { instantIn } from '../../util/time.js';

export interface DigestOptions {
  org: string;
  timezone: string;
  targets: Targets;
  lowRating: number;
  name: (id: string) => string;
  /** The site's kinds of work with their names (default: repair, cleaning, meal). */
  kinds?: readonly KindInfo[];
  /** Open tasks read at most (oldest first); the rest are only counted. */
  activeLimit?: number;
}

export interface ComposedDigest {
  period: Period;
  date: string;
  markdown: string;
  /** Weekly and monthly summaries: the chart, as the platform-neutral image message. */
  image?: Extract<Message, { type: 'image' }>;
}

export function digestOptions(config: Config, roster: Roster): DigestOptions {
  const s = config.sla;
  return {
    org: config.org.name,
    timezone: config.org.timezone,
    targets: {
      normal: { claim: s.normal.claimTarget, finish: s.normal.finishTarget },
      urgent: { claim: s.urgent.claimTarget, finish: s.urgent.finishTarget },
    },
    lowRating: config.meals.lowRating,
    kinds: roster.kinds,
    name: (id) => roster.name(id),
  };
}

/** Digests over the Redis that holds the tasks (the usual wiring; tests and the CLI use it too). */
export function digestsFor(tasks: TaskStore, roster: Roster, font?: ChartFont | null): Digests {
  return new Digests(
    new RedisDigestSource(tasks.redis, tasks.k.prefix, tasks),
    digestOptions(roster.config, roster),
    font,
  );
}

/** The date a request names: 昨天的日报 → yesterday, 上周的周报 → a week back, 上个月的月报 → last day of last month. */
export function requestedDate(text: string, today: string): string {
  if (/昨天|昨日/.test(text)) return addDays(today, -1);
  if (/上周|上星期/.test(text)) return addDays(today, -7);
  if (/上个?月/.test(text)) return addDays(`${today.slice(0, 8)}01`, -1);
  return today;
}

export class Digests {
  constructor(
    private source: DigestSource,
    readonly opts: DigestOptions,
    /** undefined: find a CJK font on this machine (chart.ts); null: draw charts without text. */
    private font?: ChartFont | null,
  ) {}

  private get kinds(): readonly KindInfo[] {
    return this.opts.kinds ?? builtInKindList;
  }

  today(now = Date.now()): string {
    return dayOf(now, this.opts.timezone);
  }

  async figures(
    period: Period,
    date: string,
    now = Date.now(),
  ): Promise<{ figures: DigestFigures; days: Map<string, Record<string, number>> }> {
    const { span, prev } = spanOf(period, date);
    const all = [...(prev?.dates ?? []), ...span.dates];
    // 在办 and 最久未完成 are as of the end of the digest's date: now for today's, that day's midnight for a past one.
    const end = instantIn(this.opts.timezone, addDays(date, 1), '00:00') - 1;
    const asOf = Math.min(now, end);
    const limit = this.opts.activeLimit ?? 5000;
    const [days, active, sheets, meals, prevSheets, prevMeals] = await Promise.all([
      this.source.days(all),
      asOf < now ? this.source.openAt(asOf, limit) : this.source.active(limit),
      this.source.checklists(span.dates),
      this.source.meals(span.dates),
      prev ? this.source.checklists(prev.dates) : undefined,
      prev ? this.source.meals(prev.dates) : undefined,
    ]);
    const pick = (s: Span) => s.dates.map((d) => days.get(d) ?? {});
    const kinds = this.kinds.map((k) => k.id);
    const figures: DigestFigures = {
      org: this.opts.org,
      kinds: this.kinds,
      period,
      span,
      prev,
      now,
      targets: this.opts.targets,
      tasks: totals(pick(span), kinds),
      prevTasks: prev ? totals(pick(prev), kinds) : undefined,
      open: openWork(active.tasks, active.total, this.opts.targets, asOf, undefined, kinds),
      checklists: checklistFigures(sheets),
      prevChecklists: prevSheets ? checklistFigures(prevSheets) : undefined,
      meals: mealFigures(meals, this.opts.lowRating),
      prevMeals: prevMeals ? mealFigures(prevMeals, this.opts.lowRating) : undefined,
    };
    return { figures, days };
  }

  /** The digest text (markdown) for the period ending on `date` (default: today in the school's time zone). */
  async text(period: Period, date = this.today(), now = Date.now()): Promise<string> {
    const { figures } = await this.figures(period, date, now);
    return renderDigest(figures, this.opts.name);
  }

  /** Text, and for week and month the chart. A chart that cannot be drawn is left out, never the digest. */
  async compose(
    period: Period,
    date = this.today(),
    now = Date.now(),
    onChartError?: (e: Error) => void,
  ): Promise<ComposedDigest> {
    const { figures, days } = await this.figures(period, date, now);
    const markdown = renderDigest(figures, this.opts.name);
    if (period === 'day') return { period, date, markdown };
    try {
      const png = this.chart(figures, days);
      return { period, date, markdown, image: { type: 'image', png: png.toString('base64'), alt: chartAlt(figures) } };
    } catch (e) {
      onChartError?.(e as Error);
      return { period, date, markdown };
    }
  }

  chart(f: DigestFigures, days: Map<string, Record<string, number>>): Buffer {
    const series = dailySeries(
      f.span.dates,
      days,
      this.kinds.map((k) => k.id),
    );
    const title = `${f.org} 后勤${periodTitle[f.period]} ${f.span.from.slice(5)} 至 ${f.span.to.slice(5)}`;
    return chartPng({ title, series, finishTargetMs: f.targets.normal.finish, kinds: this.kinds }, this.font);
  }
}

function chartAlt(f: DigestFigures): string {
  return `${periodTitle[f.period]}图表：${f.span.from} 至 ${f.span.to} 每日新增工单（按类别）与平均完工用时`;
}
