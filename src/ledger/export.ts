// The monthly ledger (台账) as an Excel workbook, written with exceljs's streaming writer so memory stays flat
// however many tasks there are: rows are committed as they are made, tasks are read in batches through the
// tasks:created index, their histories per batch.
//
// Sheets: one per checklist template laid out like the paper 记录表 (日期, 区域, 检查项目, 结果/数值, 检查人, 备注,
// 关联工单 …); 工单 (one row per task created in the month, with its history in the last column); 工单流转记录 (one
// row per history entry); 膳食反馈. Each sheet: a title row, a Chinese header row, both frozen, a filter on the
// header, widths that fit, dates as real Excel dates in the school's time zone, landscape A4 fitted to the width.
import { eventLabel as taskEventLabel } from '../domain/tasks/steps.js';
import type { Writable } from 'node:stream';
import type ExcelJS from 'exceljs';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { rangeText } from '../domain/checklists/sheets.js';
import type { ChecklistEntry, ChecklistSheet, MealFeedback } from '../domain/records.js';
import { recordKeys } from '../domain/records.js';
import type { Roster } from '../domain/roster.js';
import { stateLabel, type Task, type TaskEvent } from '../domain/tasks/task.js';
import type { TaskStore } from '../store/tasks.js';
import { PhotoStore, type TaskPhoto } from '../store/photos.js';
import { calendarDate, monthBounds, WallClock } from './time.js';

export interface LedgerDeps {
  redis: Redis;
  tasks: TaskStore;
  config: Config;
  roster: Roster;
  /** A link to a stored photo (GET /console/api/photos/<hash> on the service); without it the 照片 column has counts only. */
  photoUrl?: (hash: string) => string;
}

export interface LedgerResult {
  month: string;
  sheets: string[];
  tasks: number;
  events: number;
  checklistRows: number;
  meals: number;
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const BATCH = 500;

/** The history's event names in the ledger: the bot's own labels, plus the names older entries were written with. */
export const eventLabel: Record<string, string> = { ...taskEventLabel, cancel: '撤销', autoaccept: '自动验收' };

const surfaceLabel: Record<string, string> = {
  aibot: '企业微信群',
  app: '企业微信应用',
  console: '控制台',
  stream: '钉钉',
};

export interface Col {
  header: string;
  width: number;
  fmt?: string; // Excel number format
  wrap?: boolean;
}

const DATE = 'yyyy-mm-dd';
const DATETIME = 'yyyy-mm-dd hh:mm';
const TIME = 'hh:mm';

/** `YYYY-MM` → "2026年11月". */
const monthTitle = (month: string) => `${month.slice(0, 4)}年${Number(month.slice(5, 7))}月`;

/**
 * Excel sheet names: at most 31 characters, none of []:*?/\ , not starting or ending with an apostrophe, not
 * "History" (Excel keeps it), unique ignoring case (Excel's rule). `used` holds the names taken, lowercased.
 */
export function sheetNameOf(title: string, used: Set<string>, fallback = '检查'): string {
  const cut = (s: string, n: number) => Array.from(s).slice(0, n).join(''); // never half a surrogate pair
  const clean = title.replace(/[[\]:*?/\\]/g, '·').replace(/^'+|'+$/g, '');
  // Cut at 31, an opening bracket left dangling at the end goes too: 联合体第一分部（ reads as broken.
  const base = cut(clean, 31).replace(/['（(【《「]+$/, '') || fallback;
  let name = base.toLowerCase() === 'history' ? `${base}(1)` : base;
  for (let i = 2; used.has(name.toLowerCase()); i++) name = `${cut(base, 28).replace(/'+$/, '')}(${i})`;
  used.add(name.toLowerCase());
  return name;
}

export class SheetWriter {
  readonly ws: ExcelJS.Worksheet;
  rows = 0;
  /** One style object per column, shared by its cells: exceljs then finds the style id by identity instead of
   * serialising each cell's style again (which was most of the export's time). */
  private styles: Partial<ExcelJS.Style>[];

  constructor(wb: ExcelJS.stream.xlsx.WorkbookWriter, name: string, title: string, cols: readonly Col[]) {
    this.ws = wb.addWorksheet(name, {
      views: [{ state: 'frozen', ySplit: 2, xSplit: 0 }],
      pageSetup: { paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 },
    });
    this.styles = cols.map((c) => ({
      ...(c.fmt ? { numFmt: c.fmt } : {}),
      alignment: { vertical: 'top', wrapText: !!c.wrap },
    }));
    this.ws.columns = cols.map((c, i) => ({ key: `c${i}`, width: c.width, style: this.styles[i] }));
    const t = this.ws.addRow([title]);
    t.height = 26;
    t.getCell(1).font = { bold: true, size: 14 };
    t.getCell(1).alignment = { horizontal: 'center', vertical: 'middle' };
    this.ws.mergeCells(1, 1, 1, cols.length);
    t.commit();
    const h = this.ws.addRow(cols.map((c) => c.header));
    h.font = { bold: true };
    h.alignment = { horizontal: 'center', vertical: 'middle', wrapText: true };
    h.eachCell((cell) => {
      cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EEF7' } };
      cell.border = { bottom: { style: 'thin' } };
    });
    h.commit();
    this.ws.autoFilter = { from: { row: 2, column: 1 }, to: { row: 2, column: cols.length } };
  }

  /** `bold`: a totals row (its cells get their own style object, so keep such rows few). */
  add(values: unknown[], bold = false): void {
    const row = this.ws.addRow(values.map((v) => (v === undefined || v === null ? null : v)));
    row.eachCell((cell, col) => {
      cell.style = bold ? { ...this.styles[col - 1], font: { bold: true } } : this.styles[col - 1];
    });
    row.commit();
    this.rows++;
  }

  /**
   * Waits until the zip has taken most of what this sheet wrote. exceljs's sheet stream ignores backpressure, and
   * compressing is slower than making rows: without this the queue (uncompressed XML) grows with the month.
   * Reads exceljs 4.4 internals (the sheet's StreamBuf and the stream it pipes into); without them it does nothing.
   */
  async drained(maxBytes = 4 << 20): Promise<void> {
    const s = (
      this.ws as unknown as {
        stream?: { buffers?: unknown[]; bufSize?: number; pipes?: { _writableState?: { length?: number } }[] };
      }
    ).stream;
    if (!s) return;
    const queued = () =>
      (s.buffers?.length ?? 0) * (s.bufSize ?? 65536) +
      (s.pipes ?? []).reduce((n, p) => n + (p._writableState?.length ?? 0), 0);
    for (let waited = 0; queued() > maxBytes && waited < 60_000; waited += 2)
      await new Promise((r) => setTimeout(r, 2));
  }

  commit(): void {
    this.ws.commit();
  }
}

/** The 工单 sheet's columns, one task a row (taskRow); the district workbook's site sheets use them too. */
export const taskColumns: readonly Col[] = [
  { header: '工单号', width: 8 },
  { header: '类别', width: 7 },
  { header: '专业', width: 7 },
  { header: '紧急', width: 6 },
  { header: '地点', width: 12 },
  { header: '问题描述', width: 30, wrap: true },
  { header: '报修人', width: 9 },
  { header: '班组', width: 10 },
  { header: '责任人', width: 9 },
  { header: '处理人', width: 9 },
  { header: '接单方式', width: 10 },
  { header: '状态', width: 8 },
  { header: '报修时间', width: 17, fmt: DATETIME },
  { header: '接单时间', width: 17, fmt: DATETIME },
  { header: '完工时间', width: 17, fmt: DATETIME },
  { header: '验收时间', width: 17, fmt: DATETIME },
  { header: '撤销时间', width: 17, fmt: DATETIME },
  { header: '接单用时（分钟）', width: 10, fmt: '0' },
  { header: '完工用时（小时）', width: 10, fmt: '0.0' },
  { header: '评分', width: 6 },
  { header: '评价', width: 20, wrap: true },
  { header: '返工次数', width: 8 },
  { header: '完工备注', width: 20, wrap: true },
  { header: '来源', width: 12 },
  { header: '关联检查', width: 14 },
  { header: '照片', width: 16 },
  { header: '处理经过', width: 60, wrap: true },
];

export interface TaskRowContext {
  roster: Roster;
  /** The site's wall clock (its time zone). */
  clock: WallClock;
  photoUrl?: (hash: string) => string;
}

/** One task as a row of the 工单 sheet (taskColumns), its history in the last cell. */
export function taskRow(t: Task, log: TaskEvent[], photos: TaskPhoto[] | undefined, c: TaskRowContext): unknown[] {
  const { roster, clock } = c;
  const at = (ms: number | undefined) => (ms === undefined ? undefined : clock.date(ms));
  const name = (id: string | undefined) => (id ? roster.name(id) : undefined);
  const hm = (ms: number) => clock.date(ms).toISOString().slice(11, 16);
  const md = (ms: number) => clock.date(ms).toISOString().slice(5, 10);
  let day = '';
  const history = log.map((e) => {
    const dd = md(e.at);
    const line = `${dd === day ? '' : `${dd} `}${hm(e.at)} ${name(e.by)} ${eventLabel[e.type] ?? e.type}${e.to ? ` → ${name(e.to)}` : ''}${e.rating ? ` ${e.rating}分` : ''}${e.text && e.type !== 'created' ? `：${e.text}` : ''}`;
    day = dd;
    return line;
  });
  return [
    t.id,
    roster.kindName(t.kind),
    t.trade ?? '',
    t.urgent ? '是' : '',
    t.place ?? '',
    t.text,
    name(t.reporter),
    roster.team(t.team)?.name ?? t.team,
    name(t.owner) ?? '',
    name(t.assignee) ?? '',
    assignedHow(t, name),
    stateLabel[t.state],
    at(t.createdAt),
    at(t.claimedAt),
    at(t.doneAt),
    at(t.acceptedAt),
    at(t.cancelledAt),
    t.claimedAt ? Math.round((t.claimedAt - t.createdAt) / 60_000) : null,
    t.doneAt ? Math.round((t.doneAt - t.createdAt) / 360_000) / 10 : null,
    t.rating ?? null,
    t.ratingText ?? '',
    t.rework || null,
    t.note ?? '',
    surfaceLabel[t.source.surface] ?? t.source.surface ?? '',
    t.checklist ?? '',
    photoCell(photos, c.photoUrl),
    history.join('\n'),
  ];
}

/**
 * Writes the month's ledger as .xlsx to `out` (a file or an HTTP response) and resolves when it is complete.
 * `month` is YYYY-MM in the school's time zone.
 */
export async function exportMonth(d: LedgerDeps, month: string, out: Writable): Promise<LedgerResult> {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new Error(`month must be YYYY-MM, got "${month}"`);
  const tz = d.config.org.timezone;
  const clock = new WallClock(tz);
  const at = (ms: number | undefined) => (ms === undefined ? undefined : clock.date(ms));
  const name = (id: string | undefined) => (id ? d.roster.name(id) : undefined);
  const { from, to, dates } = monthBounds(month, tz);
  const rk = recordKeys(d.tasks.k.prefix);
  const org = d.config.org.name;
  const result: LedgerResult = { month, sheets: [], tasks: 0, events: 0, checklistRows: 0, meals: 0 };
  const used = new Set<string>();

  // Loaded here, not at start: ~7 MB of heap that only an export needs (a smaller heap, shorter full GCs).
  const { default: excel } = await import('exceljs');
  // No shared strings: exceljs would keep every distinct string of the month in memory until the end.
  const wb = new excel.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  wb.creator = 'Houqin 后勤';
  wb.created = new Date();

  // ── checklists: one sheet per template, in config order, then any template only the records know ──────────
  const templates = new Map<string, string>(d.config.checklists.map((c) => [c.id, c.title]));
  const seen = new Set<string>();
  {
    const p = d.redis.pipeline();
    for (const date of dates) p.hkeys(rk.checklistDay(date));
    for (const [, ids] of (await p.exec()) ?? []) for (const id of (ids ?? []) as string[]) seen.add(id.split('.')[0]);
  }
  for (const id of seen) if (!templates.has(id)) templates.set(id, id);
  const clCols: Col[] = [
    { header: '日期', width: 12, fmt: DATE },
    { header: '区域', width: 12 },
    { header: '检查项目', width: 22, wrap: true },
    { header: '结果/数值', width: 11 },
    { header: '单位', width: 8 },
    { header: '标准', width: 14 },
    { header: '判定', width: 8 },
    { header: '检查人', width: 10 },
    { header: '检查时间', width: 10, fmt: TIME },
    { header: '备注', width: 28, wrap: true },
    { header: '关联工单', width: 10 },
  ];
  for (const [template, title] of templates) {
    if (!seen.has(template) && !d.config.checklists.some((c) => c.id === template)) continue;
    const sheet = new SheetWriter(
      wb,
      sheetNameOf(title, used),
      `${org} ${title}记录表（${monthTitle(month)}）`,
      clCols,
    );
    const items = new Map((d.config.checklists.find((c) => c.id === template)?.items ?? []).map((it) => [it.key, it]));
    for (const date of dates) {
      const all = await d.redis.hgetall(rk.checklistDay(date));
      const sheets = Object.values(all)
        .map((s) => JSON.parse(s) as ChecklistSheet)
        .filter((s) => s.template === template);
      sheets.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
      for (const s of sheets) {
        for (const e of s.items) {
          const it = items.get(e.key);
          sheet.add([
            calendarDate(s.date),
            s.area ?? s.place ?? '',
            e.label,
            entryValue(e, s),
            e.unit ?? it?.unit ?? '',
            it ? rangeText(it) : '',
            verdict(e, s),
            name(e.by ?? (s.status === 'done' ? s.responsible : undefined)) ?? '',
            at(e.at ?? (s.status === 'done' ? s.doneAt : undefined)),
            [e.note, s.status === 'missed' ? `漏检（责任人${name(s.responsible)}）` : undefined]
              .filter(Boolean)
              .join('；'),
            e.task ? `#${e.task}` : '',
          ]);
        }
      }
      await sheet.drained();
    }
    sheet.commit();
    result.sheets.push(sheet.ws.name);
    result.checklistRows += sheet.rows;
  }

  // ── tasks created in the month, in batches ───────────────────────────────────────────────────────────────
  await d.tasks.backfillCreated(); // tasks made before the created index existed
  const taskSheet = new SheetWriter(
    wb,
    sheetNameOf('工单', used),
    `${org} 后勤工单台账（${monthTitle(month)}）`,
    taskColumns,
  );
  const rowContext: TaskRowContext = { roster: d.roster, clock, photoUrl: d.photoUrl };
  await eachBatch(
    d.tasks,
    from,
    to,
    async (tasks, logs) => {
      const photos = await PhotoStore.of(d.tasks).forTasks(tasks.map((t) => t.id));
      tasks.forEach((t, i) => taskSheet.add(taskRow(t, logs[i], photos.get(t.id), rowContext)));
      result.tasks += tasks.length;
      await taskSheet.drained();
    },
    false,
  );
  taskSheet.commit();
  result.sheets.push(taskSheet.ws.name);

  // ── every history entry of those tasks (a second pass: sheets are written one after the other) ─────────────
  const evCols: Col[] = [
    { header: '工单号', width: 8 },
    { header: '时间', width: 17, fmt: DATETIME },
    { header: '人员', width: 10 },
    { header: '动作', width: 14 },
    { header: '说明', width: 40, wrap: true },
    { header: '转给', width: 10 },
    { header: '评分', width: 6 },
  ];
  const evSheet = new SheetWriter(
    wb,
    sheetNameOf('工单流转记录', used),
    `${org} 工单流转记录（${monthTitle(month)}）`,
    evCols,
  );
  await eachBatch(
    d.tasks,
    from,
    to,
    async (ids, logs) => {
      ids.forEach((t, i) => {
        for (const e of logs[i]) {
          evSheet.add([
            t.id,
            at(e.at),
            name(e.by),
            eventLabel[e.type] ?? e.type,
            e.text ?? '',
            name(e.to) ?? '',
            e.rating ?? null,
          ]);
          result.events++;
        }
      });
      await evSheet.drained();
    },
    true,
  );
  evSheet.commit();
  result.sheets.push(evSheet.ws.name);

  // ── meal feedback ─────────────────────────────────────────────────────────────────────────────────────────
  const mealCols: Col[] = [
    { header: '时间', width: 17, fmt: DATETIME },
    { header: '餐次', width: 8 },
    { header: '评分', width: 6 },
    { header: '意见', width: 36, wrap: true },
    { header: '反馈人', width: 9 },
    { header: '食品安全', width: 9 },
    { header: '关联工单', width: 9 },
    { header: '食堂答复', width: 30, wrap: true },
    { header: '答复人', width: 9 },
    { header: '答复时间', width: 17, fmt: DATETIME },
  ];
  const mealSheet = new SheetWriter(
    wb,
    sheetNameOf('膳食反馈', used),
    `${org} 膳食反馈记录（${monthTitle(month)}）`,
    mealCols,
  );
  for (const date of dates) {
    for (const raw of await d.redis.lrange(rk.mealDay(date), 0, -1)) {
      const f = JSON.parse(raw) as MealFeedback;
      mealSheet.add([
        at(f.at),
        f.meal ?? '',
        f.rating ?? null,
        f.text ?? '',
        name(f.person),
        f.urgent ? '是' : '',
        f.task ? `#${f.task}` : '',
        f.answer?.text ?? '',
        name(f.answer?.by) ?? '',
        at(f.answer?.at),
      ]);
      result.meals++;
    }
  }
  mealSheet.commit();
  result.sheets.push(mealSheet.ws.name);

  await wb.commit(); // resolves when `out` has finished
  return result;
}

/**
 * Tasks created in [from, to), BATCH at a time, with their histories (or only the ids and histories). The next batch
 * is read from Redis while the current one is written.
 */
export async function eachBatch(
  store: TaskStore,
  from: number,
  to: number,
  fn: (tasks: Task[], logs: TaskEvent[][]) => Promise<void>,
  idsOnly: boolean,
): Promise<void> {
  const read = async (offset: number): Promise<{ ids: number[]; tasks: Task[]; logs: TaskEvent[][] }> => {
    const ids = await store.createdBetween(from, to, offset, BATCH);
    if (!ids.length) return { ids, tasks: [], logs: [] };
    const [tasks, logs] = await Promise.all([
      idsOnly ? ids.map((id) => ({ id }) as Task) : store.getMany(ids),
      store.histories(ids),
    ]);
    return { ids, tasks, logs };
  };
  let next = read(0);
  for (let offset = 0; ; offset += BATCH) {
    const { ids, tasks, logs } = await next;
    if (!ids.length) return;
    if (ids.length === BATCH) next = read(offset + BATCH);
    if (!idsOnly && tasks.length !== ids.length) {
      // A task hash missing (deleted by hand): keep rows and histories aligned.
      const byId = new Map(tasks.map((t) => [t.id, t]));
      const kept = ids.map((id, i) => [byId.get(id), logs[i]] as const).filter(([t]) => t);
      await fn(
        kept.map(([t]) => t!),
        kept.map(([, l]) => l),
      );
    } else await fn(tasks, logs);
    if (ids.length < BATCH) return;
  }
}

/**
 * The 照片 cell: how many (现场 / 完工), a hyperlink to the first. A link, not the pictures: the streaming writer
 * cannot place images in cells, and a month of photos (up to 10 MB each) would make the workbook huge.
 */
function photoCell(list: TaskPhoto[] | undefined, url: ((hash: string) => string) | undefined): unknown {
  if (!list?.length) return '';
  const report = list.filter((p) => p.kind === 'report').length;
  const done = list.length - report;
  const text = [report ? `现场 ${report} 张` : '', done ? `完工 ${done} 张` : ''].filter(Boolean).join('，');
  const first = list.find((p) => p.kind === 'done') ?? list[0];
  return url ? { text, hyperlink: url(first.hash), tooltip: '打开照片（需要能访问后勤助手的控制台）' } : text;
}

function assignedHow(t: Task, name: (id: string | undefined) => string | undefined): string {
  if (!t.assignedBy) return '';
  if (t.assignedBy === 'system') return '系统派单';
  if (t.assignedBy === t.assignee) return '抢单';
  return `${name(t.assignedBy)}派单`;
}

function entryValue(e: ChecklistEntry, s: ChecklistSheet): string | number {
  if (e.value === undefined || e.value === '') return s.status === 'missed' ? '未检查' : '未填';
  if (e.type === 'yesno') return e.value === true || e.value === 'true' ? '正常' : '异常';
  if (e.type === 'number') {
    const n = Number(e.value);
    return Number.isFinite(n) ? n : String(e.value);
  }
  return String(e.value);
}

function verdict(e: ChecklistEntry, s: ChecklistSheet): string {
  if (e.value === undefined || e.value === '') return s.status === 'missed' ? '漏检' : '';
  if (e.ok === false) return '不合格';
  return e.type === 'text' ? '' : '合格';
}
