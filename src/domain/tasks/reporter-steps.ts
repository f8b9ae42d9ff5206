// The reporter's steps: 验收, 没修好 (reopen), 评价 and 撤销, which the logistics manager may also take in the
// reporter's place, and 催办.
import type { Outcome } from '../outcome.js';
import { settled, step, type Ctx, type StepKit } from './steps.js';
import { stateLabel, type Task } from './task.js';
import * as T from './texts.js';

const NUDGE_WINDOW_MS = 10 * 60_000;

export async function accept(k: StepKit, ctx: Ctx, task: Task): Promise<Outcome> {
  const { out, me, now } = ctx;
  const r = await step(k, ctx, task, 'accept', {
    mustBe: k.roster.isManager(me.id) ? undefined : 'reporter',
    set: { acceptedAt: now },
    event: { type: 'accepted' },
  });
  if (!r.ok) return out;
  settled(k, ctx, r.task, '已验收');
  out.reply(`👍 #${task.id} 已验收。欢迎评价：评价 ${task.id} 5 很满意`);
  return out.dm(r.task.assignee, `#${task.id} 已通过验收（${me.name}）。`);
}

export async function reopen(k: StepKit, ctx: Ctx, task: Task, why: string | undefined): Promise<Outcome> {
  const { out, me } = ctx;
  const r = await step(k, ctx, task, 'reopen', {
    mustBe: k.roster.isManager(me.id) ? undefined : 'reporter',
    incr: { rework: 1 },
    set: { note: undefined },
    event: { type: 'reopened', text: why },
  });
  if (!r.ok) return out;
  settled(k, ctx, r.task, '已退回返工');
  out.reply(`🔁 #${task.id} 已退回给${k.roster.name(r.task.assignee)}返工。`);
  return out.dm(
    r.task.assignee,
    `🔁 #${task.id} 没修好，需要返工${why ? `：${why}` : ''}（${me.name}）。完工后再回复"完工 ${task.id}"。`,
  );
}

export async function rate(
  k: StepKit,
  ctx: Ctx,
  task: Task,
  rating: number,
  comment: string | undefined,
): Promise<Outcome> {
  const { out, me, now } = ctx;
  const set = {
    rating,
    ratingText: comment?.trim() || undefined,
    ...(task.state === 'done' ? { acceptedAt: now } : {}),
  };
  const r = await step(k, ctx, task, 'rate', {
    mustBe: k.roster.isManager(me.id) ? undefined : 'reporter',
    set,
    event: { type: 'rated', rating, text: comment },
  });
  if (!r.ok) return out;
  out.reply(`谢谢评价 #${task.id} ${'★'.repeat(rating)}`);
  out.dm(r.task.assignee, `#${task.id} 收到评价 ${'★'.repeat(rating)}${comment ? `：${comment}` : ''}`);
  if (rating <= 2)
    for (const m of k.roster.managers())
      out.dm(
        m.id,
        `⚠️ 差评 #${task.id} ${'★'.repeat(rating)}${comment ? `：${comment}` : ''}（报修人${me.name}，处理人${k.roster.name(r.task.assignee)}）`,
      );
  return out;
}

export async function nudge(k: StepKit, ctx: Ctx, task: Task): Promise<Outcome> {
  const { out, me, now } = ctx;
  if (!['open', 'claimed', 'on_hold'].includes(task.state))
    return out.reply(`#${task.id} ${stateLabel[task.state]}，不需要催办。`);
  if (!(await k.side.nudgeAllowed(task.id, me.id, NUDGE_WINDOW_MS)))
    return out.reply(`#${task.id} 刚催过，师傅已收到，请稍候。`);
  await k.tasks.note(task.id, { at: now, by: me.id, type: 'nudged' });
  const text = `⏰ ${me.name}催办 ${T.summary(task)}`;
  if (task.assignee) out.dm(task.assignee, text);
  else {
    const team = k.roster.team(task.team);
    if (team?.chat) out.send({ kind: 'chat', chat: team.chat }, { type: 'text', text });
    for (const p of team ? k.roster.onDuty(team, now) : []) out.dm(p, text);
  }
  return out.reply(`已催办 #${task.id}，${task.assignee ? k.roster.name(task.assignee) : '班组'}会尽快处理。`);
}

export async function cancel(k: StepKit, ctx: Ctx, task: Task): Promise<Outcome> {
  const { out, me, now } = ctx;
  const r = await step(k, ctx, task, 'cancel', {
    mustBe: k.roster.isManager(me.id) ? undefined : 'reporter',
    set: { cancelledAt: now },
    event: { type: 'cancelled' },
  });
  if (!r.ok) return out;
  out.send({ kind: 'cards', ref: `t${task.id}` }, { type: 'card', card: T.takenCard(r.task, k.roster) });
  out.reply(`已撤销 #${task.id}。`);
  return out.dm(r.task.assignee, `#${task.id} 已被${me.name}撤销，不用再处理了。`);
}
