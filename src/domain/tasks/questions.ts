// Questions that change nothing: 进度 (one task and its latest events), 我的 (my unfinished tasks), and
// 日报 / 周报 / 月报 for the director and the logistics manager.
import { splitMessage, toPlainText } from '../digest/render.js';
import { requestedDate } from '../digest/service.js';
import type { Outcome } from '../outcome.js';
import { eventLabel, type Ctx, type StepKit } from './steps.js';
import { stateLabel, type Task } from './task.js';
import * as T from './texts.js';

export async function status(k: StepKit, ctx: Ctx, task: Task): Promise<Outcome> {
  const log = await k.tasks.history(task.id);
  const recent = log
    .slice(-3)
    .map(
      (e) =>
        `· ${new Date(e.at).toISOString().slice(11, 16)} ${k.roster.name(e.by)} ${eventLabel[e.type] ?? e.type}${e.text ? `：${e.text}` : ''}`,
    );
  // The task counts everyone who reported it (a second report of the same problem joins the first).
  const followers = await k.tasks.followers(task.id);
  const also = followers.length
    ? [`另有 ${followers.length} 人也报了这个问题：${followers.map((p) => k.roster.name(p)).join('、')}`]
    : [];
  return ctx.out.reply([T.statusText(task, k.roster), ...also, ...recent].join('\n'));
}

export async function mine(k: StepKit, ctx: Ctx): Promise<Outcome> {
  const list = await k.tasks.forPerson(ctx.me.id);
  if (!list.length) return ctx.out.reply('你目前没有未完成的任务。');
  return ctx.out.reply(['你的任务：', ...list.map((t) => `${T.summary(t)} · ${stateLabel[t.state]}`)].join('\n'));
}

export async function digest(k: StepKit, ctx: Ctx, asked?: 'day' | 'week' | 'month'): Promise<Outcome> {
  const { me, out, env, now } = ctx;
  if (!k.roster.has(me.id, 'manager') && !k.roster.has(me.id, 'director'))
    return out.reply('日报、周报、月报只发给园长和后勤主任。');
  const text = env.text ?? '';
  const period = asked ?? (/月报/.test(text) ? 'month' : /周报/.test(text) ? 'week' : 'day');
  const digests = k.digests();
  const d = await digests.compose(period, requestedDate(text, digests.today(now)), now);
  // A reply may end up as plain text (app text, merged replies): the same digest without markdown marks. A summary
  // longer than one WeCom app message (2048 bytes) goes on in direct messages.
  const [first, ...more] = splitMessage(toPlainText(d.markdown), 2000);
  out.reply(first);
  for (const part of more) out.dm(me.id, part);
  // The chart goes to the person (a group reply through response_url carries one markdown message only).
  if (d.image) out.send({ kind: 'user', person: me.id }, d.image);
  return out;
}
