// The worker's steps: 接单 (claim, and with it 确认 and 恢复), 转单 / 派单, 挂起, 完工. Each runs one atomic step
// (steps.ts) and then says what happened to the worker, the reporter and the cards.
import type { Person } from '../../config/schema.js';
import type { Outcome } from '../outcome.js';
import { canWork, clicked, step, tellReporters, type Ctx, type StepKit } from './steps.js';
import { stateLabel, type Task } from './task.js';
import { photosForDone } from './photos.js';
import * as T from './texts.js';

const res = (task: Task) => ({ task });

export async function claim(k: StepKit, ctx: Ctx, task: Task): Promise<Outcome> {
  const { out, me, now } = ctx;
  const manager = k.roster.isManager(me.id);
  if (task.state === 'on_hold' && (task.assignee === me.id || manager)) {
    const res = await step(k, ctx, task, 'resume', {
      mustBe: manager ? undefined : 'assignee',
      set: { holdReason: undefined },
      event: { type: 'resumed' },
    });
    if (!res.ok) return out;
    out.reply(`▶️ #${task.id} 继续处理。`);
    return tellReporters(k, out, task, `你报的 #${task.id} 已恢复处理（${me.name}）。`, me.id);
  }
  if (task.state === 'claimed' && task.assignee === me.id) {
    if (task.acked) return clicked(k, ctx, res(task)).reply(`#${task.id} 已经在你名下了。`);
    const r = await step(k, ctx, task, 'ack', {
      mustBe: 'assignee',
      set: { acked: true },
      event: { type: 'acknowledged' },
    });
    if (!r.ok) return out;
    clicked(k, ctx, r);
    return out.reply(`✅ 已确认 #${task.id}，完工后回复"完工 ${task.id} 备注"。`);
  }
  if (task.state !== 'open') {
    clicked(k, ctx, res(task));
    return out.reply(
      task.assignee
        ? `#${task.id} 已由${k.roster.name(task.assignee)}接单。`
        : `#${task.id} ${stateLabel[task.state]}，不能接单。`,
    );
  }
  if (!canWork(k, me, task))
    return out.reply(
      `只有${k.roster.team(task.team)?.name ?? '相应班组'}的师傅可以接单；需要派单请用"转单 ${task.id} @师傅"。`,
    );
  const r = await step(k, ctx, task, 'claim', {
    set: { assignee: me.id, assignedBy: me.id, acked: true, claimedAt: now },
    event: { type: 'claimed' },
    index: [me.id],
  });
  if (!r.ok) return out; // step() has replied: someone else was faster
  clicked(k, ctx, r);
  out.send({ kind: 'cards', ref: `t${task.id}`, except: me.id }, { type: 'card', card: T.takenCard(r.task, k.roster) });
  out.reply(
    `✅ 你已接单 ${T.summary(r.task)}\n完工后回复"完工 ${task.id} 备注"；缺配件可回复"挂起 ${task.id} 待配件"。`,
  );
  return tellReporters(k, out, task, `你报的 #${task.id} 已由${me.name}接单，正在处理。`, me.id);
}

export async function transfer(k: StepKit, ctx: Ctx, task: Task, typed: string | undefined): Promise<Outcome> {
  const { out, me, now } = ctx;
  const target = typed ? k.roster.findPerson(typed) : undefined;
  if (!target) return out.reply(`没找到"${typed ?? ''}"，请写名册里的名字，例如：转单 ${task.id} @吴师傅`);
  const manager = k.roster.isManager(me.id);
  if (!manager && !canWork(k, target, task))
    return out.reply(`${target.name}不在处理${T.kindLabel[task.kind]}的班组，只有后勤主任可以跨组派单。`);
  if (task.state === 'open') {
    if (!manager && !canWork(k, me, task)) return out.reply(`只有后勤主任或本班组师傅可以派单 #${task.id}。`);
    const r = await step(k, ctx, task, 'assign', {
      set: { assignee: target.id, assignedBy: me.id, acked: target.id === me.id, claimedAt: now },
      event: { type: 'assigned', to: target.id },
      index: [target.id],
    });
    if (!r.ok) return out;
    return afterHandover(k, ctx, r.task, target);
  }
  const r = await step(k, ctx, task, 'transfer', {
    mustBe: manager ? undefined : 'assignee',
    set: { assignee: target.id, assignedBy: me.id, acked: false },
    event: { type: 'transferred', to: target.id },
    index: [target.id],
  });
  if (!r.ok) return out;
  return afterHandover(k, ctx, r.task, target);
}

async function afterHandover(k: StepKit, ctx: Ctx, task: Task, target: Person): Promise<Outcome> {
  const { out, me } = ctx;
  out.send(
    { kind: 'cards', ref: `t${task.id}`, except: target.id },
    { type: 'card', card: T.takenCard(task, k.roster) },
  );
  out.send(
    { kind: 'user', person: target.id },
    {
      type: 'card',
      card: {
        ...T.claimCard(task, k.roster),
        title: `${me.name}派给你 #${task.id}`.slice(0, 26),
        buttons: [{ text: '确认接单', key: `claim:${task.id}`, style: 'primary' }],
      },
    },
  );
  out.reply(`↪️ #${task.id} 已交给${target.name}。`);
  return tellReporters(k, out, task, `你报的 #${task.id} 已转给${target.name}处理。`, me.id);
}

export async function hold(k: StepKit, ctx: Ctx, task: Task, reason: string | undefined): Promise<Outcome> {
  const { out, me } = ctx;
  const why = reason?.trim() || '待配件';
  const r = await step(k, ctx, task, 'hold', {
    mustBe: k.roster.isManager(me.id) ? undefined : 'assignee',
    set: { holdReason: why },
    event: { type: 'held', text: why },
  });
  if (!r.ok) return out;
  out.reply(`⏸ #${task.id} 已挂起：${why}。恢复时回复"接单 ${task.id}"。`);
  return tellReporters(k, out, task, `你报的 #${task.id} 暂时挂起：${why}（${me.name}）。`);
}

export async function done(k: StepKit, ctx: Ctx, task: Task, note: string | undefined): Promise<Outcome> {
  const { out, me, now } = ctx;
  const r = await step(k, ctx, task, 'done', {
    mustBe: k.roster.isManager(me.id) ? undefined : 'assignee',
    set: { note: note?.trim() || undefined, doneAt: now },
    incr: { doneCount: 1 },
    event: { type: 'done', text: note },
  });
  if (!r.ok) return out;
  const t = r.task;
  await photosForDone(k, ctx, t);
  out.timers.push({
    step: 'autoaccept',
    task: t.id,
    delayMs: k.roster.config.sla.autoAccept,
    id: `autoaccept:${t.doneCount}`,
    expect: t.doneCount,
  });
  out.reply(`🎉 #${t.id} 已完工，等待${k.roster.name(t.reporter)}验收。`);
  out.send(
    { kind: 'user', person: t.reporter },
    {
      type: 'card',
      card: {
        ref: `a${t.id}x${t.doneCount}`,
        title: `#${t.id} 已完工，请验收`,
        description: `${T.summary(t)}${t.note ? `\n备注：${t.note}` : ''}`.slice(0, 100),
        fields: [{ label: '处理人', value: k.roster.name(t.assignee) }],
        buttons: [
          { text: '验收通过', key: `accept:${t.id}`, style: 'primary' },
          { text: '没修好', key: `reopen:${t.id}`, style: 'danger' },
        ],
      },
    },
  );
  out.dm(
    t.reporter,
    `也可以回复"验收 ${t.id}"、"没修好 ${t.id} 原因"或"评价 ${t.id} 5 很满意"。48小时内不验收将自动好评。`,
  );
  // Those who reported it too hear it is finished; accepting stays the first reporter's.
  for (const f of await k.tasks.followers(t.id))
    if (f !== t.reporter) out.dm(f, `你关注的 #${t.id} 已完工（${k.roster.name(t.assignee)}）。`);
  return out;
}

/**
 * 备注: a worker's or manager's progress note on a task, no state change ("师傅在路上了", "已通知厂家"). It goes into the
 * task's history, and the reporter hears it, so nobody has to ask.
 */
export async function note(k: StepKit, ctx: Ctx, task: Task, text: string): Promise<Outcome> {
  const { out, me, now } = ctx;
  const said = text.trim().slice(0, 200);
  if (!said) return out.reply(`请写上进展，例如：${task.id}号 师傅在路上了`);
  await k.tasks.note(task.id, { at: now, by: me.id, type: 'noted', text: said });
  out.reply(`📝 已记在 #${task.id} 上${task.reporter !== me.id ? '，并转告了报修人' : ''}。`);
  return tellReporters(k, out, task, `📝 你报的 #${task.id} 有进展（${me.name}）：${said}`, me.id);
}
