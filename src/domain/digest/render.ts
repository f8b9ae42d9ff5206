// The director's digest (日报) and the weekly / monthly summaries (周报 / 月报), the text: the figures (figures.ts)
// as a short Simplified-Chinese markdown text that reads well on a phone, and the cuts for the surfaces that take it.
// Pure functions; nothing here does I/O.
import { weekday } from '../../scheduler/calendar.js';
import type { Task } from '../tasks/task.js';
import { builtInKindList, kindName } from '../kinds.js';
import type { DigestFigures, Period, Span } from './figures.js';

export const periodTitle: Record<Period, string> = { day: '日报', week: '周报', month: '月报' };

// ── the text ──────────────────────────────────────────────────────────────────────────────────────────────────

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

function brief(t: Task, label: (kind: string) => string, max = 14): string {
  const where = t.place ? `【${t.place}】` : '';
  const chars = Array.from(
    t.place && t.text.startsWith(t.place) ? t.text.slice(t.place.length).replace(/^[\s,，。:：]+/, '') : t.text,
  );
  const what = chars.length > max ? chars.slice(0, max - 1).join('') + '…' : chars.join('');
  return `#${t.id} ${label(t.kind)}${where}${what}`;
}

/**
 * The digest as markdown (WeCom's markdown: bold, quotes; no tables). `name` turns a person id into a name.
 * Sections: 工单 (by kind, timeliness, open work, oldest), 检查, 膳食, 评价, 量化考核.
 */
export function renderDigest(f: DigestFigures, name: (id: string) => string): string {
  const L: string[] = [];
  const prevWord = f.period === 'week' ? '上周' : '上月同期';
  const cmp = !!f.prev && !!f.prevTasks;
  const kinds = f.kinds ?? builtInKindList;
  const label = (kind: string) => kinds.find((k) => k.id === kind)?.name ?? kindName(kind);
  L.push(`**${f.org} · 后勤${periodTitle[f.period]}**`);
  L.push(cmp ? `${spanLabel(f.span)}，括号内为与${prevWord}（${spanLabel(f.prev!)}）相比` : spanLabel(f.span));

  // 工单
  const t = f.tasks;
  const p = cmp ? f.prevTasks : undefined;
  L.push('', '**工单**');
  if (t.all.reported + t.all.claimed + t.all.finished + t.all.accepted === 0 && f.open.overdueTotal === 0) {
    L.push(f.period === 'day' ? '当日无新工单' : '本期无工单');
  } else {
    for (const { id: k, name: kindTitle } of kinds) {
      const x = t.kinds[k];
      const late = f.open.overdue[k] ?? 0;
      if (!x || x.reported + x.claimed + x.finished + x.accepted + late === 0) continue;
      L.push(`${kindTitle}　报 ${x.reported} · 接 ${x.claimed} · 完 ${x.finished} · 验 ${x.accepted} · 超时 ${late}`);
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
      L.push(`> ${brief(o.task, label)} · ${openState(o.task)} ${shortDuration(o.ageMs)}${o.overdue ? ' ⚠' : ''}`);
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
