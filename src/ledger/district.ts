// The district's workbook (`houqin export --district`): a first sheet 区域汇总 with one row per site — the figures of
// the weekly summary (domain/district/) for a month or a week, worst first, and a totals row — then one sheet per
// site with its tasks of the period, in the columns of the site ledger's 工单 sheet (ledger/export.ts). Written with
// exceljs's streaming writer, each site's tasks read in batches, so memory stays flat with hundreds of sites.
import type { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { addDays } from '../scheduler/calendar.js';
import type { Span } from '../domain/digest/figures.js';
import {
  type Figures,
  inTargetShare,
  mealAverage,
  monthOf,
  rankSites,
  ratingAverage,
  weekOf,
} from '../domain/district/figures.js';
import { spanText } from '../domain/district/render.js';
import { type DistrictSite, readDistrict, type ReadOptions } from '../domain/district/service.js';
import { Roster } from '../domain/roster.js';
import { PhotoStore } from '../store/photos.js';
import { TaskStore } from '../store/tasks.js';
import { type Col, eachBatch, SheetWriter, sheetNameOf, taskColumns, taskRow } from './export.js';
import { startOfDay, WallClock } from './time.js';

/** A month (YYYY-MM) or the Monday-to-Sunday week holding a date (YYYY-MM-DD). */
export type DistrictPeriod = { month: string } | { week: string };

export interface DistrictLedgerDeps {
  redis: Redis;
  /** district.yaml's name (a title); the folder's name when it has none. */
  name: string;
  sites: readonly DistrictSite[];
  /** When open and overdue work is counted (default: now). */
  now?: number;
  read?: ReadOptions;
}

export interface DistrictLedgerResult {
  span: Span;
  sheets: string[];
  sites: number;
  tasks: number;
}

export const SUMMARY_SHEET = '区域汇总';

const PERCENT = '0%';
const SCORE = '0.0';

const summaryCols: Col[] = [
  { header: '排名', width: 6 },
  { header: '单位', width: 18, wrap: true },
  { header: '站点编号', width: 14 },
  { header: '工单', width: 7 },
  { header: '紧急', width: 6 },
  { header: '完工', width: 7 },
  { header: '按时完工', width: 8 },
  { header: '按时完工率', width: 9, fmt: PERCENT },
  { header: '当前在办', width: 8 },
  { header: '当前超时', width: 8 },
  { header: '检查表', width: 7 },
  { header: '已完成', width: 7 },
  { header: '漏检', width: 6 },
  { header: '有异常', width: 7 },
  { header: '膳食反馈', width: 8 },
  { header: '食品安全投诉', width: 10 },
  { header: '低分或食安意见', width: 11 },
  { header: '餐评数', width: 7 },
  { header: '餐评平均分', width: 9, fmt: SCORE },
  { header: '工单评价数', width: 9 },
  { header: '工单评价平均分', width: 11, fmt: SCORE },
];

function figureCells(f: Figures): unknown[] {
  return [
    f.reported,
    f.urgent,
    f.finished,
    f.inTarget,
    inTargetShare(f) ?? null,
    f.open,
    f.overdue,
    f.checklists,
    f.checklistsDone,
    f.missed,
    f.withFailures,
    f.meals,
    f.foodSafety,
    f.mealComplaints,
    f.mealRated,
    mealAverage(f) ?? null,
    f.ratings,
    ratingAverage(f) ?? null,
  ];
}

export function periodSpan(p: DistrictPeriod): Span {
  if ('month' in p) {
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(p.month)) throw new Error(`month must be YYYY-MM, got "${p.month}"`);
    return monthOf(p.month);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(p.week) || Number.isNaN(Date.parse(p.week)))
    throw new Error(`week must be a date, YYYY-MM-DD, got "${p.week}"`);
  return weekOf(p.week);
}

/** "2026年11月" for a month, "11月16日–11月22日" for a week. */
function periodTitle(p: DistrictPeriod, span: Span): string {
  return 'month' in p
    ? `${p.month.slice(0, 4)}年${Number(p.month.slice(5, 7))}月`
    : `${span.from.slice(0, 4)}年${spanText(span)}`;
}

/** Writes the district's workbook as .xlsx to `out` and resolves when it is complete. */
export async function exportDistrict(
  d: DistrictLedgerDeps,
  period: DistrictPeriod,
  out: Writable,
): Promise<DistrictLedgerResult> {
  const span = periodSpan(period);
  const now = d.now ?? Date.now();
  const title = periodTitle(period, span);
  const figures = await readDistrict(d.redis, d.name, d.sites, span, now, d.read);
  const result: DistrictLedgerResult = { span, sheets: [], sites: d.sites.length, tasks: 0 };

  const { default: excel } = await import('exceljs');
  const wb = new excel.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  wb.creator = 'Houqin 后勤';
  wb.created = new Date(now);
  const used = new Set<string>();

  // ── 区域汇总: one row per site, worst first, then the totals ──────────────────────────────────────────────
  const summary = new SheetWriter(wb, sheetNameOf(SUMMARY_SHEET, used), `${d.name} 区域汇总（${title}）`, summaryCols);
  rankSites(figures.sites).forEach((s, i) => {
    summary.add([i + 1, s.name, s.id, ...figureCells(s)]);
  });
  summary.add(['合计', `${figures.sites.length} 个单位`, '', ...figureCells(figures.totals)], true);
  const clock = new WallClock(figures.timezone);
  const asOf = clock.date(now).toISOString().slice(0, 16).replace('T', ' ');
  summary.add([]);
  summary.add([
    `说明：工单、完工、检查、膳食与评价为本期（${span.from} 至 ${span.to}，各单位本地日期）的数字；当前在办与当前超时为导出时（${asOf}）的数字，超时即已过接单或完工目标时限（按各单位配置）。按时完工率 = 按时完工 / 完工。`,
  ]);
  summary.commit();
  result.sheets.push(summary.ws.name);

  // ── one sheet per site, in the district's order: its tasks reported in the period ─────────────────────────
  for (const site of d.sites) {
    const tz = site.config.org.timezone;
    const store = new TaskStore(d.redis, site.prefix, { timezone: tz });
    const roster = new Roster(site.config);
    const sheet = new SheetWriter(
      wb,
      sheetNameOf(site.config.org.name, used, site.id),
      `${site.config.org.name}（${site.id}）后勤工单（${title}）`,
      taskColumns,
    );
    const rowContext = { roster, clock: new WallClock(tz) };
    const from = startOfDay(span.from, tz);
    const to = startOfDay(addDays(span.to, 1), tz);
    await eachBatch(
      store,
      from,
      to,
      async (tasks, logs) => {
        const photos = await PhotoStore.of(store).forTasks(tasks.map((t) => t.id));
        tasks.forEach((t, i) => sheet.add(taskRow(t, logs[i], photos.get(t.id), rowContext)));
        result.tasks += tasks.length;
        await sheet.drained();
      },
      false,
    );
    sheet.commit();
    result.sheets.push(sheet.ws.name);
  }

  await wb.commit();
  return result;
}
