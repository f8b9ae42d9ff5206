// Every sentence the bot says, in one place: short, plain Chinese that reads well on a phone.
import type { Task } from './task.js';
import { stateLabel } from './task.js';
import type { Card } from '../messages.js';
import type { Roster } from '../roster.js';
import { clockIn } from '../roster.js';
import { kindName } from '../kinds.js';

/** Kind names by id: 报修, 保洁, 餐评 and the kinds the loaded config adds (domain/kinds.ts). */
export { kindLabel, kindName } from '../kinds.js';

/** The description without the place it starts with ("小一班 空调不制冷" under 【小一班】 reads twice otherwise). */
export function what(t: Pick<Task, 'place' | 'text'>): string {
  if (t.place && t.text.startsWith(t.place))
    return t.text.slice(t.place.length).replace(/^[\s,，。:：]+/, '') || t.text;
  return t.text;
}

export function summary(t: Task): string {
  const where = t.place ? `【${t.place}】` : '';
  return `#${t.id} ${t.urgent ? '🔴紧急 ' : ''}${kindName(t.kind)}${where}${what(t)}`;
}

export function claimCard(t: Task, roster: Roster): Card {
  return {
    ref: `t${t.id}`,
    title: `${t.urgent ? '紧急' : '新'}${kindName(t.kind)} #${t.id}`,
    description: what(t).slice(0, 100),
    fields: [
      { label: '地点', value: t.place ?? '未说明' },
      { label: '报修人', value: roster.name(t.reporter) },
      ...(t.trade ? [{ label: '类别', value: t.trade }] : []),
      { label: '时间', value: clockIn(roster.config.org.timezone, t.createdAt) },
    ],
    buttons: [{ text: '接单', key: `claim:${t.id}`, style: t.urgent ? 'danger' : 'primary' }],
  };
}

/** The claim card after someone took the task: no live button, says who. */
export function takenCard(t: Task, roster: Roster, viewer?: string): Card {
  const mine = viewer !== undefined && viewer === t.assignee;
  const base = claimCard(t, roster);
  const status = t.state === 'cancelled' ? '已撤销' : mine ? '你已接单' : `${roster.name(t.assignee)}已接单`;
  return { ...base, buttons: [{ text: status.slice(0, 10), key: `noop:${t.id}`, style: 'muted' }] };
}

export function statusText(t: Task, roster: Roster): string {
  const tz = roster.config.org.timezone;
  const lines = [
    summary(t),
    `状态：${stateLabel[t.state]}`,
    `报修人：${roster.name(t.reporter)}（${clockIn(tz, t.createdAt)}）`,
  ];
  if (t.assignee) lines.push(`处理人：${roster.name(t.assignee)}`);
  if (t.holdReason && t.state === 'on_hold') lines.push(`挂起原因：${t.holdReason}`);
  if (t.note) lines.push(`完工备注：${t.note}`);
  if (t.rating) lines.push(`评价：${'★'.repeat(t.rating)}${t.ratingText ? ' ' + t.ratingText : ''}`);
  if (t.rework) lines.push(`返工：${t.rework} 次`);
  return lines.join('\n');
}

export const help = [
  '后勤小助手，这样跟我说：',
  '报修 小一班 空调不制冷',
  '保洁 午睡室 有呕吐物',
  '餐评 4 汤有点咸',
  '师傅：接单 12 · 挂起 12 待配件 · 完工 12 换了灯管 · 转单 12 @吴师傅',
  '报修人：验收 12 · 没修好 12 · 评价 12 5 很快 · 催办 12 · 撤销 12',
  '查询：进度 12 · 我的',
].join('\n');

export const askPlace = '请问在哪里？回复地点即可，例如：小一班、厨房、操场';
export const unknownPerson = '你还不在后勤名册里，请联系后勤主任添加后再试。';
