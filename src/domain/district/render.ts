// The district's weekly summary (区域汇总), the text: the district's totals, then the sites that need attention, worst
// first, two short lines each, as Simplified-Chinese markdown (WeCom's: bold and quotes, no tables) that reads on a
// phone. With many sites it lists the first ten that need attention and counts the rest. Pure functions.
import { dayLabel } from '../digest/render.js';
import type { Span } from '../digest/figures.js';
import {
  type Figures,
  type SiteFigures,
  inTargetShare,
  mealAverage,
  needsAttention,
  rankSites,
  ratingAverage,
} from './figures.js';

/** Sites listed by name; with more, the rest are counted. */
export const LISTED = 10;

export interface DistrictFigures {
  name: string;
  span: Span;
  /** When the open work was counted. */
  now: number;
  timezone: string;
  /** Sites in more than one time zone: each is counted by its own. */
  mixedTimezones: boolean;
  sites: SiteFigures[];
  totals: Figures;
}

const percent = (share: number | undefined) => (share === undefined ? '—' : `${Math.round(share * 100)}%`);
const score = (n: number | undefined) => (n === undefined ? '—' : n.toFixed(1));

/** "11月16日–11月22日" */
export const spanText = (s: Span) => `${dayLabel(s.from)}–${dayLabel(s.to)}`;

export const summaryTitle = (f: Pick<DistrictFigures, 'name' | 'span'>) => `${f.name} 区域汇总 ${spanText(f.span)}`;

/** "按时 78%（7/9）" */
function onTime(f: Figures): string {
  return f.finished ? `按时 ${percent(inTargetShare(f))}（${f.inTarget}/${f.finished}）` : '按时 —';
}

/** The problems of a site, or of the district: 超时 3 · 漏检 1 · 🔴食安 1. */
function problemText(f: Figures): string {
  return [
    f.overdue ? `超时 ${f.overdue}` : '',
    f.missed ? `漏检 ${f.missed}` : '',
    f.foodSafety ? `🔴食安 ${f.foodSafety}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

function workText(f: Figures): string {
  return `工单 ${f.reported} · ${onTime(f)} · 餐评 ${score(mealAverage(f))} · 评价 ${score(ratingAverage(f))}`;
}

function clockText(at: number, timezone: string): string {
  const p = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const get = (t: string) => p.find((x) => x.type === t)?.value ?? '';
  return `${Number(get('month'))}月${Number(get('day'))}日 ${get('hour')}:${get('minute')}`;
}

/** The summary as markdown. */
export function renderDistrict(f: DistrictFigures): string {
  const t = f.totals;
  const ranked = rankSites(f.sites);
  const attention = ranked.filter(needsAttention);
  const fine = ranked.filter((s) => !needsAttention(s));
  const L: string[] = [];
  L.push(`**${summaryTitle(f)}**`);
  L.push(
    `${f.sites.length} 个单位 · ${attention.length ? `${attention.length} 个需关注` : '均无超时、漏检、食安投诉'}`,
  );
  L.push(`工单 ${t.reported} · 完工 ${t.finished} · ${onTime(t)}`);
  L.push(
    `超时在办 ${t.overdue} · 漏检 ${t.missed}/${t.checklists} · 食安投诉 ${t.foodSafety}${t.foodSafety ? ' 🔴' : ''}`,
  );
  L.push(`餐评 ${score(mealAverage(t))} 分（${t.mealRated}） · 工单评价 ${score(ratingAverage(t))} 分（${t.ratings}）`);

  const line = (s: SiteFigures, n: number, withProblems: boolean) => {
    const head = `${n}. ${s.name}`;
    return withProblems ? [`${head}　${problemText(s)}`, `> ${workText(s)}`] : [`${head}　${workText(s)}`];
  };
  const shown = attention.slice(0, LISTED);
  if (shown.length) {
    L.push('', `**需关注**（超时、漏检、食安投诉多者在前${attention.length > LISTED ? `，前 ${LISTED} 个` : ''}）`);
    shown.forEach((s, i) => L.push(...line(s, i + 1, true)));
    if (attention.length > shown.length)
      L.push(`> 另有 ${attention.length - shown.length} 个单位需关注，见区域台账（Excel）`);
  }
  // A handful of sites: every one is named. Many: the fine ones are only counted.
  if (f.sites.length <= LISTED && fine.length) {
    L.push('', '**正常**');
    fine.forEach((s, i) => L.push(...line(s, shown.length + i + 1, false)));
  } else if (fine.length) {
    L.push('', `其余 ${fine.length} 个单位无超时、漏检、食安投诉`);
  }

  L.push('', `超时在办：截至 ${clockText(f.now, f.timezone)} 仍未接单或未完工、已过目标时限的工单`);
  if (t.uncounted) L.push(`另有 ${t.uncounted} 单在办未读取，未计入超时`);
  if (f.mixedTimezones) L.push('各单位按本地时区统计同一周（周一至周日）');
  return L.join('\n');
}
