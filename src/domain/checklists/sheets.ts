// Daily checklists (安全检查, 消毒记录, 晨检, 食堂卫生): the sheets a template makes for a day, what the bot posts,
// how an answer changes a sheet, and what is still missing. Pure: storage and messages are the callers' business.
import type { Checklist, ChecklistItem, Config } from '../../config/schema.js';
import type { ChecklistAnswer } from '../../commands/checklist-answer.js';
import type { ChecklistEntry, ChecklistSheet } from '../records.js';

/** The sheets a template makes for one day: one per area, or one for the whole template. */
export function sheetsFor(c: Checklist, date: string, at: number): ChecklistSheet[] {
  const areas = c.areas.length
    ? c.areas.map((a, i) => ({
        id: `${c.id}.${i}`,
        area: a.name,
        responsible: a.responsible,
        chat: a.chat ?? c.chat,
        place: a.place,
      }))
    : [{ id: c.id, responsible: c.responsible!, chat: c.chat }];
  return areas.map((a) => ({
    ...a,
    template: c.id,
    title: c.title,
    date,
    postedAt: at,
    status: 'open' as const,
    items: c.items.map((it) => ({
      key: it.key,
      label: it.label,
      type: it.type,
      ...(it.unit ? { unit: it.unit } : {}),
    })),
  }));
}

/** "消毒记录（一洗二清三消毒）·午睡室" — how the bot names a sheet. */
export function sheetName(s: Pick<ChecklistSheet, 'title' | 'area'>): string {
  return s.area ? `${s.title}·${s.area}` : s.title;
}

/** The words a person may put in front of an answer to say which sheet it is for. */
export function sheetNames(s: ChecklistSheet): string[] {
  const names = new Set<string>([s.template]);
  if (s.area) names.add(s.area);
  const add = (t: string) => {
    if (t.length >= 2) names.add(t);
  };
  const bare = s.title.replace(/[（(].*?[)）]/g, '').trim();
  add(s.title);
  add(bare);
  const core = bare.replace(/^(?:每日|每天|日常)/, '');
  add(core);
  add(core.replace(/(?:记录表|检查表|记录|检查|登记)$/, ''));
  return [...names];
}

/** The allowed range as people read it: "250–500 mg/L", "≥30 分钟", "≤8 ℃", "应为 0 人". */
export function rangeText(it: Pick<ChecklistItem, 'min' | 'max' | 'unit'>): string {
  const u = it.unit ? ` ${it.unit}` : '';
  if (it.min !== undefined && it.max !== undefined)
    return it.min === it.max ? `应为 ${it.min}${u}` : `${it.min}–${it.max}${u}`;
  if (it.min !== undefined && it.min !== 0) return `≥${it.min}${u}`;
  if (it.max !== undefined) return `≤${it.max}${u}`;
  return '';
}

function itemHint(it: ChecklistItem): string {
  if (it.type !== 'number') return '';
  const range = rangeText(it);
  const parts = [range || it.unit].filter(Boolean);
  return parts.length ? `（${parts.join('')}）` : '（填数字）';
}

/** The post: title, the numbered items with units and ranges, who answers, by when and how. */
export function postText(sheet: ChecklistSheet, template: Checklist, responsibleName: string, due?: string): string {
  const [month, day] = sheet.date.slice(5).split('-').map(Number);
  const lines = [
    `📋 ${sheetName(sheet)}（${month}月${day}日）`,
    `请${responsibleName}检查后在群里回复${due ? `，${due}前完成` : ''}：`,
  ];
  template.items.forEach((it, i) => lines.push(`${i + 1}. ${it.label}${itemHint(it)}`));
  lines.push(howToAnswer(template.items));
  return lines.join('\n');
}

function howToAnswer(items: ChecklistItem[]): string {
  const nums = items.map((it, i) => ({ it, no: i + 1 })).filter((x) => x.it.type === 'number');
  const yes = items.findIndex((it) => it.type === 'yesno') + 1;
  const numbers = nums.map((x) => `${x.no} ${sample(x.it)}`).join(' ');
  const text = items.findIndex((it) => it.type === 'text') + 1;
  const lines: string[] = [];
  if (yes && nums.length) lines.push(`回复示例：“全部正常 ${numbers}”`);
  else if (yes) lines.push('回复示例：“全部正常”');
  else lines.push(`回复示例：“${numbers}”`);
  if (yes) lines.push(`有问题写编号和情况，如“${yes} 异常 说明情况”`);
  if (text) lines.push(`文字项写“${text} 内容”`);
  return `${lines.join('；')}。可一次写多项，也可分几次回复。`;
}

/** A plausible reading for the example: the middle of the range, or its edge, or a head count. */
function sample(it: ChecklistItem): number {
  if (it.min !== undefined && it.max !== undefined) {
    const mid = (it.min + it.max) / 2;
    return it.max - it.min >= 50 ? Math.round(mid / 10) * 10 : Math.round(mid);
  }
  if (it.max !== undefined) return it.max;
  return it.min ? it.min : 30;
}

/** An answer's effect on one item, before it is written. */
export interface Change {
  item: ChecklistItem;
  index: number;
  value: string | number | boolean;
  ok: boolean;
  note?: string;
  /** Filled in by "全部正常" rather than named one by one. */
  byAll?: boolean;
}

/** What an answer means for a sheet: per-item values and verdicts (ranges checked), in sheet order. */
export function changesFrom(sheet: ChecklistSheet, items: ChecklistItem[], a: ChecklistAnswer): Change[] {
  const byIndex = new Map<number, Change>();
  for (const x of a.answers) {
    const item = items[x.index];
    if (!item) continue;
    if (item.type === 'yesno' && x.ok !== undefined)
      byIndex.set(x.index, { item, index: x.index, value: x.ok, ok: x.ok, note: x.note });
    else if (item.type === 'number' && x.number !== undefined)
      byIndex.set(x.index, { item, index: x.index, value: x.number, ok: inRange(item, x.number), note: x.note });
    else if (item.type === 'text' && x.text)
      byIndex.set(x.index, { item, index: x.index, value: x.text, ok: true, note: x.note });
  }
  if (a.allOk) {
    items.forEach((item, index) => {
      // "全部正常" fills what is still empty; it does not overturn an 异常 given earlier.
      if (item.type === 'yesno' && !byIndex.has(index) && sheet.items[index]?.value === undefined)
        byIndex.set(index, { item, index, value: true, ok: true, byAll: true });
    });
  }
  return [...byIndex.values()].sort((x, y) => x.index - y.index);
}

export function inRange(it: Pick<ChecklistItem, 'min' | 'max'>, v: number): boolean {
  return (it.min === undefined || v >= it.min) && (it.max === undefined || v <= it.max);
}

/** The sheet after the changes: who, when, values, the tasks failures opened; done when nothing is missing. */
export function applyChanges(
  sheet: ChecklistSheet,
  changes: Change[],
  by: string,
  at: number,
  tasks: Map<string, number>,
): ChecklistSheet {
  const items: ChecklistEntry[] = sheet.items.map((e, i) => {
    const c = changes.find((x) => x.index === i);
    if (!c) return e;
    const task = tasks.get(e.key) ?? e.task;
    const next: ChecklistEntry = {
      key: e.key,
      label: e.label,
      type: e.type,
      ...(e.unit ? { unit: e.unit } : {}),
      value: c.value,
      ok: c.ok,
      by,
      at,
    };
    if (c.note) next.note = c.note;
    if (task !== undefined) next.task = task;
    return next;
  });
  const complete = items.every((e) => e.value !== undefined);
  const status = sheet.status === 'open' && complete ? 'done' : sheet.status;
  return { ...sheet, items, status, ...(complete && !sheet.doneAt ? { doneAt: at } : {}) };
}

export function missing(sheet: ChecklistSheet): { index: number; entry: ChecklistEntry }[] {
  return sheet.items.map((entry, index) => ({ index, entry })).filter((x) => x.entry.value === undefined);
}

/** "2 电路插座、3 含氯消毒液浓度（mg/L）" */
export function missingText(sheet: ChecklistSheet): string {
  return missing(sheet)
    .map(
      ({ index, entry }) =>
        `${index + 1} ${entry.label}${entry.type === 'number' && entry.unit ? `（${entry.unit}）` : ''}`,
    )
    .join('、');
}

/** What the failed item's task says: "每日安全检查：消防器材与通道 异常：灭火器压力不足". */
export function failureText(sheet: ChecklistSheet, c: Change): string {
  const head = `${sheetName(sheet)}：${c.item.label}`;
  if (c.item.type === 'number') {
    const range = rangeText(c.item);
    return `${head} ${c.value}${c.item.unit ? ` ${c.item.unit}` : ''}${range ? `（${range.startsWith('应为') ? range : `应为 ${range}`}）` : ''}${c.note ? `：${c.note}` : ''}`;
  }
  return `${head} 异常${c.note ? `：${c.note}` : ''}`;
}

export function valueText(c: Pick<Change, 'item' | 'value'>): string {
  if (c.item.type === 'yesno') return c.value ? '正常' : '异常';
  return `${c.value}${c.item.type === 'number' && c.item.unit ? ` ${c.item.unit}` : ''}`;
}

/** The template's items, or — when the config no longer has it — what the sheet itself remembers. */
export function itemsOf(config: Config, sheet: ChecklistSheet): ChecklistItem[] {
  const t = config.checklists.find((c) => c.id === sheet.template);
  return sheet.items.map(
    (e) => t?.items.find((it) => it.key === e.key) ?? { key: e.key, label: e.label, type: e.type, unit: e.unit },
  );
}
