// The card a checklist's responsible person gets with each day's sheet: "全部正常" records every yes/no item as fine
// (as the text "全部正常" does), "有异常，我来说明" says how to write a failure. A platform-neutral Card: the channels
// render it (WeCom: an app button card in the person's DM; the console: a card in 私聊机器人). The button keys carry
// the sheet's date and id, so a click needs nothing else to find it.
import { missing, missingText, sheetName } from './sheets.js';
import type { Card } from '../messages.js';
import type { ChecklistSheet } from '../records.js';

export type CardAction = 'ok' | 'explain';

const keyRe = /^cl:(ok|explain):(\d{4}-\d{2}-\d{2}):([a-z0-9_.]+)$/;

/** The ref of a sheet's card: what the senders keep its update handle under. */
export function cardRef(sheet: Pick<ChecklistSheet, 'date' | 'id'>): string {
  return `cl.${sheet.date}.${sheet.id}`;
}

export function cardKey(action: CardAction, sheet: Pick<ChecklistSheet, 'date' | 'id'>): string {
  return `cl:${action}:${sheet.date}:${sheet.id}`;
}

/** The sheet a button is for, or undefined for any other key (claim:12 …). */
export function parseCardKey(key: string): { action: CardAction; date: string; sheet: string } | undefined {
  const m = keyRe.exec(key);
  return m ? { action: m[1] as CardAction, date: m[2], sheet: m[3] } : undefined;
}

const dayLabel = (date: string) => `${Number(date.slice(5, 7))}月${Number(date.slice(8, 10))}日`;

function fields(sheet: ChecklistSheet, due?: string): Card['fields'] {
  return [
    { label: '日期', value: dayLabel(sheet.date) },
    ...(due ? [{ label: '完成时间', value: `${due}前` }] : []),
    { label: '检查项', value: `${sheet.items.length} 项` },
  ];
}

/**
 * The card sent with the post. Undefined for a sheet without yes/no items (晨检 is all numbers): "全部正常" would
 * record nothing there, and the numbers have to be typed anyway.
 */
export function answerCard(sheet: ChecklistSheet, due?: string): Card | undefined {
  if (!sheet.items.some((e) => e.type === 'yesno')) return undefined;
  const numbers = sheet.items.some((e) => e.type !== 'yesno');
  return {
    ref: cardRef(sheet),
    title: `📋 ${sheetName(sheet)}`,
    description: `${sheet.items.map((e, i) => `${i + 1} ${e.label}`).join('、')}${numbers ? '。数字项请直接回复，如“4 数值”' : ''}`,
    fields: fields(sheet, due),
    buttons: [
      { text: '全部正常', key: cardKey('ok', sheet), style: 'primary' },
      { text: '有异常，我来说明', key: cardKey('explain', sheet), style: 'default' },
    ],
  };
}

/** The card after "全部正常" was recorded: what the sheet now holds, and no live button. */
export function recordedCard(sheet: ChecklistSheet): Card {
  const fine = sheet.items.filter((e) => e.value !== undefined && e.ok !== false).length;
  const failed = sheet.items.filter((e) => e.ok === false).length;
  const left = missing(sheet);
  const parts = [
    `正常 ${fine} 项`,
    ...(failed ? [`异常 ${failed} 项`] : []),
    left.length ? `还差 ${left.length} 项：${missingText(sheet)}` : '已全部填完',
  ];
  return {
    ref: cardRef(sheet),
    title: `📋 ${sheetName(sheet)}`,
    description: `已记录：${parts.join('，')}`,
    fields: fields(sheet),
    buttons: [{ text: '已记录', key: `noop:${cardKey('ok', sheet)}`, style: 'muted' }],
  };
}

/** The reply to "有异常，我来说明": how to write the failure, with this sheet's first yes/no item as the example. */
export function explainText(sheet: ChecklistSheet): string {
  const i = sheet.items.findIndex((e) => e.type === 'yesno');
  const no = i + 1;
  const label = sheet.items[i]?.label ?? '';
  return [
    `请直接回复有问题的项目编号和情况，例如“${no} 异常 说明情况”（${no} 是${label}）。`,
    `其余都正常可以一起写：“${no} 异常 说明情况，其余正常”。在群里或这里回复都可以。`,
  ].join('\n');
}
