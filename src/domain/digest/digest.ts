// The director's digest (日报) and the weekly / monthly summaries (周报 / 月报): pure functions from figures already
// read (daily stats hashes, open tasks, checklist sheets, meal feedback) to a short Simplified-Chinese markdown text
// that reads well on a phone. Reading is service.ts's job; nothing here does I/O.
import { kinds, type Kind } from '../../config/schema.js';
import { addDays, weekday } from '../../scheduler/calendar.js';
import type { ChecklistSheet, MealFeedback } from '../records.js';
import type { Task } from '../tasks/task.js';
import { kindLabel } from '../tasks/texts.js';

export type Period = 'day' | 'week' | 'month';
export const periodTitle: Record<Period, string> = { day: '日报', week: '周报', month: '月报' };

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

/** Adds up daily stats hashes (field → number) into figures per kind, in all, and per worker. */
export function totals(days: Record<string, number>[]): Totals {
  const out: Totals = {
    kinds: { repair: zeroKind(), cleaning: zeroKind(), meal: zeroKind() },
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
      const k = parts[1] as Kind;
      if (!f || parts.length !== 2 || !out.kinds[k]) continue;
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

export function openWork(active: Task[], total: number, targets: Targets, now: number, oldestShown = 3): OpenWork {
  const counts = { open: 0, claimed: 0, on_hold: 0, done: 0 };
  const overdue: Record<Kind, number> = { repair: 0, cleaning: 0, meal: 0 };
  const unfinished: Task[] = [];
  for (const t of active) {
    if (t.state in counts) counts[t.state as keyof typeof counts]++;
    if (isOverdue(t, targets, now)) overdue[t.kind]++;
    if (t.state === 'open' || t.state === 'claimed' || t.state === 'on_hold') unfinished.push(t);
  }
  const oldest = unfinished
    .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id)
    .slice(0, oldestShown)
    .map((task) => ({ task, ageMs: now - task.createdAt, overdue: isOverdue(task, targets, now) }));
  return {
    counts,
    overdue,
    overdueTotal: overdue.repair + overdue.cleaning + overdue.meal,
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

export function dailySeries(dates: string[], days: Map<string, Record<string, number>>): DailySeries {
  const reported = { repair: [], cleaning: [], meal: [] } as Record<Kind, number[]>;
  const finishHours: (number | null)[] = [];
  for (const d of dates) {
    const t = totals([days.get(d) ?? {}]);
    for (const k of kinds) reported[k].push(t.kinds[k].reported);
    finishHours.push(t.all.finished ? Math.round((t.all.finishMs / t.all.finished / 3_600_000) * 10) / 10 : null);
  }
  return { dates, reported, finishHours };
}

// ── the text ──────────────────────────────────────────────────────────────────────────────────────────────────

export interface DigestFigures {
  org: string;
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

const LIST = 2; // failed items / missed sheets listed by name; the rest are counted
const WORKERS_DAILY = 8;
const weekdays = ['', '周一', '周二', '周三', '周四', '周五', '周六', '周日'];

/** "11月20日" */
export function dayLabel(date: string): string {
  return `${Number(date.slice(5, 7))}月${Number(date.slice(8, 10))}日`;
}

function spanLabel(s: Span): string {
  if (s.from === s.to) return `${dayLabel(s.from)}（${weekdays[weekday(s.from)]}）`;
  return `${dayLabel(s.from)}–${dayLabel(s.to)}`;
}

/** Short durations for a phone: 18分钟, 3.5小时, 2.1天. */
export function shortDuration(ms: number): string {
  const min = ms / 60_000;
  if (min < 60) return `${Math.max(0, Math.round(min))}分钟`;
  const h = min / 60;
  if (h < 48) return `${trim1(h)}小时`;
  return `${trim1(h / 24)}天`;
}

const trim1 = (n: number) => (Math.round(n * 10) / 10).toString();
const score = (n: number | undefined) => (n === undefined ? '—' : n.toFixed(1));

/** "（+8）", "（−3）", "（持平）" — the change from the period before. */
function change(cur: number, prev: number | undefined): string {
  if (prev === undefined) return '';
  const d = cur - prev;
  return d === 0 ? '（持平）' : `（${d > 0 ? '+' : '−'}${Math.abs(d)}）`;
}

const avg = (sum: number, n: number) => (n ? sum / n : undefined);

function openState(t: Task): string {
  return t.state === 'open' ? '待接单' : t.state === 'on_hold' ? '挂起' : '处理中';
}

function brief(t: Task, max = 14): string {
  const where = t.place ? `【${t.place}】` : '';
  const chars = Array.from(
    t.place && t.text.startsWith(t.place) ? t.text.slice(t.place.length).replace(/^[\s,，。:：]+/, '') : t.text,
  );
  const what = chars.length > max ? chars.slice(0, max - 1).join('') + '…' : chars.join('');
  return `#${t.id} ${kindLabel[t.kind]}${where}${what}`;
}

/**
 * The digest as markdown (WeCom's markdown: bold, quotes; no tables). `name` turns a person id into a name.
 * Sections: 工单 (by kind, timeliness, open work, oldest), 检查, 膳食, 评价, 量化考核.
 */
export function renderDigest(f: DigestFigures, name: (id: string) => string): string {
  const L: string[] = [];
  const prevWord = f.period === 'week' ? '上周' : '上月同期';
  const cmp = !!f.prev && !!f.prevTasks;
  L.push(`**${f.org} · 后勤${periodTitle[f.period]}**`);
  L.push(cmp ? `${spanLabel(f.span)}，括号内为与${prevWord}（${spanLabel(f.prev!)}）相比` : spanLabel(f.span));

  // 工单
  const t = f.tasks;
  const p = cmp ? f.prevTasks : undefined;
  L.push('', '**工单**');
  if (t.all.reported + t.all.claimed + t.all.finished + t.all.accepted === 0 && f.open.overdueTotal === 0) {
    L.push(f.period === 'day' ? '当日无新工单' : '本期无工单');
  } else {
    for (const k of kinds) {
      const x = t.kinds[k];
      if (x.reported + x.claimed + x.finished + x.accepted + f.open.overdue[k] === 0) continue;
      L.push(
        `${kindLabel[k]}　报 ${x.reported} · 接 ${x.claimed} · 完 ${x.finished} · 验 ${x.accepted} · 超时 ${f.open.overdue[k]}`,
      );
    }
    const a = t.all;
    L.push(
      `合计　报 ${a.reported}${change(a.reported, p?.all.reported)} · 接 ${a.claimed}${change(a.claimed, p?.all.claimed)} · 完 ${a.finished}${change(a.finished, p?.all.finished)} · 验 ${a.accepted}${change(a.accepted, p?.all.accepted)}${a.urgent ? ` · 紧急 ${a.urgent}` : ''}${a.cancelled ? ` · 撤销 ${a.cancelled}` : ''}`,
    );
  }
  const timing = (
    label: string,
    sum: number,
    n: number,
    late: number,
    target: number,
    prevSum?: number,
    prevN?: number,
  ) => {
    const mean = avg(sum, n);
    const before = prevN !== undefined ? avg(prevSum ?? 0, prevN) : undefined;
    const was = cmp ? ` · ${prevWord} ${before === undefined ? '—' : shortDuration(before)}` : '';
    if (mean === undefined && !was) return `${label}　— · 目标 ${shortDuration(target)}`;
    return `${label}　平均 ${mean === undefined ? '—' : shortDuration(mean)} · 目标 ${shortDuration(target)} · 超时 ${late}/${n}${was}`;
  };
  L.push(
    timing(
      '接单',
      t.all.claimMs,
      t.all.claimed,
      t.all.claimLate,
      f.targets.normal.claim,
      p?.all.claimMs,
      p?.all.claimed,
    ),
  );
  L.push(
    timing(
      '完工',
      t.all.finishMs,
      t.all.finished,
      t.all.finishLate,
      f.targets.normal.finish,
      p?.all.finishMs,
      p?.all.finished,
    ),
  );
  const c = f.open.counts;
  L.push(
    `在办　待接单 ${c.open} · 处理中 ${c.claimed} · 挂起 ${c.on_hold} · 待验收 ${c.done} · 超时 ${f.open.overdueTotal}${f.open.unread ? `（另有 ${f.open.unread} 单未计）` : ''}`,
  );
  if (f.open.oldest.length) {
    L.push('最久未完成');
    for (const o of f.open.oldest)
      L.push(`> ${brief(o.task)} · ${openState(o.task)} ${shortDuration(o.ageMs)}${o.overdue ? ' ⚠' : ''}`);
  }

  // 检查
  const cl = f.checklists;
  const pc = cmp ? f.prevChecklists : undefined;
  if (!cl.sheets) L.push('', '**检查**　无记录');
  else {
    const was = pc ? `（${prevWord} 完成 ${pc.done}/${pc.sheets}）` : '';
    L.push(
      '',
      `**检查**　完成 ${cl.done}/${cl.sheets} · 漏检 ${cl.missed} · 有异常 ${cl.withFailures}${cl.pending ? ` · 未到期 ${cl.pending}` : ''}${was}`,
    );
    const dated = f.period !== 'day';
    const at = (d: string) => (dated ? `${d.slice(5)} ` : '');
    for (const x of cl.failures.slice(0, LIST))
      L.push(
        `> ${at(x.date)}${x.sheet} · ${x.item}${x.value ? ` ${x.value}` : ' 异常'}${x.task ? ` → #${x.task}` : ''}`,
      );
    if (cl.failures.length > LIST) L.push(`> 另有 ${cl.failures.length - LIST} 项异常`);
    for (const x of cl.missedSheets.slice(0, LIST)) L.push(`> ${at(x.date)}${x.sheet} 漏检（${name(x.responsible)}）`);
    if (cl.missedSheets.length > LIST) L.push(`> 另有 ${cl.missedSheets.length - LIST} 张漏检`);
  }

  // 膳食
  const m = f.meals;
  const pm = cmp ? f.prevMeals : undefined;
  if (!m.count) L.push('', '**膳食**　无评价');
  else {
    const per = m.meals.map((x) => `${x.meal} ${score(x.average)}分（${x.rated}）`).join(' · ');
    const was = pm ? `（${prevWord} ${score(pm.average)}）` : '';
    L.push(
      '',
      `**膳食**　${per || `${m.count} 条意见`}${m.meals.length > 1 || pm ? ` · 平均 ${score(m.average)}${was}` : ''}`,
    );
    for (const x of m.notable) {
      const mark = x.urgent ? '⚠ ' : '';
      const stars = typeof x.rating === 'number' ? `${x.rating}分 ` : '';
      const chars = Array.from(x.text ?? '');
      const text = chars.length > 14 ? `${chars.slice(0, 13).join('')}…` : chars.join('');
      L.push(
        `> ${mark}${x.meal ? `${x.meal} ` : ''}${stars}${text}（${name(x.person)}）${x.task ? ` → #${x.task}` : ''}`,
      );
    }
    if (m.notableTotal > m.notable.length) L.push(`> 另有 ${m.notableTotal - m.notable.length} 条低分或食品安全意见`);
  }

  // 评价
  const rAvg = avg(t.all.ratingSum, t.all.ratings);
  const pAvg = p ? avg(p.all.ratingSum, p.all.ratings) : undefined;
  L.push(
    '',
    `**评价**　${t.all.ratings} 条 · 平均 ${score(rAvg)} 分${p ? `（${prevWord} ${score(pAvg)}）` : ''} · 默认好评 ${t.all.autoAccepted} · 返工 ${t.all.rework}${change(t.all.rework, p?.all.rework)}`,
  );

  // 量化考核
  const workers = Object.entries(t.workers)
    .filter(([, w]) => w.finished + w.ratings + w.rework > 0)
    .sort((a, b) => b[1].finished - a[1].finished || a[0].localeCompare(b[0]));
  if (workers.length) {
    L.push('', '**量化考核**');
    // The daily digest must fit one phone message: the busiest workers; the summaries list everyone.
    const shown = f.period === 'day' ? workers.slice(0, WORKERS_DAILY) : workers;
    for (const [id, w] of shown) {
      L.push(
        `> ${name(id)} 完工 ${w.finished} · ${w.ratings ? `${score(w.ratingSum / w.ratings)} 分（${w.ratings}）` : '未评分'}${w.rework ? ` · 返工 ${w.rework}` : ''}`,
      );
    }
    if (shown.length < workers.length) L.push(`> 另有 ${workers.length - shown.length} 人，见周报`);
  }
  return L.join('\n');
}

/** The same text without markdown marks, for surfaces that show plain text (app text replies, terminals). */
export function toPlainText(md: string): string {
  return md
    .split('\n')
    .map((l) => l.replace(/\*\*(.+?)\*\*/g, '$1').replace(/^> /, '  '))
    .join('\n');
}

/**
 * Cuts a long text into messages of at most `maxBytes` (UTF-8), between sections (blank lines) where it can, else
 * between lines: WeCom's app markdown takes 2048 bytes.
 */
export function splitMessage(text: string, maxBytes: number): string[] {
  const size = (s: string) => Buffer.byteLength(s);
  if (size(text) <= maxBytes) return [text];
  const out: string[] = [];
  let cur = '';
  const push = (piece: string, sep: string) => {
    if (!cur) cur = piece;
    else if (size(cur) + size(sep) + size(piece) <= maxBytes) cur += sep + piece;
    else {
      out.push(cur);
      cur = piece;
    }
  };
  for (const section of text.split('\n\n')) {
    if (size(section) <= maxBytes) push(section, '\n\n');
    else
      for (const line of section.split('\n'))
        push(
          size(line) <= maxBytes
            ? line
            : Buffer.from(line)
                .subarray(0, maxBytes)
                .toString('utf8')
                .replace(/\uFFFD+$/, ''),
          '\n',
        );
  }
  if (cur) out.push(cur);
  return out;
}
