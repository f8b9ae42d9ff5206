// What every task step works with: the request context, the service's stores and roster (a StepKit), and the
// machinery around one atomic transition — step() runs it and explains a refusal, clicked() / settled() turn the
// clicked card into what is true now, canWork() says who may work a task. The step files (worker-steps.ts,
// reporter-steps.ts, reports.ts, questions.ts) take a StepKit as their first argument; TaskService makes it.
import type { Envelope } from '../../channels/envelope.js';
import type { Person } from '../../config/schema.js';
import type { SideStore } from '../../store/side.js';
import type { TaskStore, TransitionRequest, TransitionResult } from '../../store/tasks.js';
import type { Digests } from '../digest/service.js';
import type { Outcome } from '../outcome.js';
import type { Roster } from '../roster.js';
import type { NewTaskInput } from './service.js';
import { transitions, stateLabel, type Step, type Task } from './task.js';
import * as T from './texts.js';

export interface Ctx {
  env: Envelope;
  me: Person;
  out: Outcome;
  now: number;
}

/** The service's parts the steps use, in place of `this`. */
export interface StepKit {
  tasks: TaskStore;
  side: SideStore;
  roster: Roster;
  /** TaskService.openTask: a report opens its task the way other modules do. */
  openTask(
    out: Outcome,
    r: NewTaskInput,
    sourceId: string,
    now?: number,
  ): Promise<{ id: number; team: string; owner?: string }>;
  /** 日报 / 周报 / 月报, made on first use (see TaskService's constructor). */
  digests(): Digests;
}

export function canWork(k: StepKit, person: Person, task: Task): boolean {
  if (task.owner === person.id) return true;
  return k.roster.teamsOf(person.id).some((t) => t.id === task.team || t.kinds.includes(task.kind));
}

/** Runs one step atomically; on refusal replies why and returns the refusal. */
export async function step(
  k: StepKit,
  ctx: Ctx,
  task: Task,
  step: Step,
  r: Omit<TransitionRequest, 'from' | 'actor' | 'event'> & {
    event: { type: string; text?: string; to?: string; rating?: number };
  },
): Promise<TransitionResult> {
  const { out, me, now } = ctx;
  const t = transitions[step];
  const res = await k.tasks.transition(
    task.id,
    { ...r, msg: ctx.env.id, from: t.from, actor: me.id, event: { at: now, by: me.id, ...r.event } },
    t.to,
  );
  if (res.ok) return res;
  if (res.reason === 'missing') out.reply(`没有找到 #${task.id}。`);
  else if (res.reason === 'actor') out.reply(refuseActor(step, res.task, k.roster));
  else if (step === 'claim' && res.task.assignee) {
    clicked(k, ctx, res);
    out.reply(`慢了一步，#${task.id} 已由${k.roster.name(res.task.assignee)}接单。`);
  } else out.reply(`#${task.id} 现在是"${stateLabel[res.task.state]}"，不能${stepLabel[step]}。`);
  return res;
}

/** After 验收通过 / 没修好 on the acceptance card: the card says what was decided and has no live button. */
export function settled(k: StepKit, ctx: Ctx, t: Task, label: string): void {
  const { env, out, me } = ctx;
  if (!env.action) return;
  const card = {
    ref: `a${t.id}`,
    title: `#${t.id} ${label}`,
    description: T.summary(t).slice(0, 100),
    fields: [{ label: '处理人', value: k.roster.name(t.assignee) }],
    buttons: [{ text: label, key: `noop:${t.id}`, style: 'muted' as const }],
  };
  out.clickedCard = card;
  if (env.action.responseCode)
    out.send(
      { kind: 'clicked_card', channel: env.channel, person: me.id, responseCode: env.action.responseCode },
      { type: 'card', card },
    );
}

/** The card the clicker sees after a click: who has the task now. */
export function clicked(k: StepKit, ctx: Ctx, r: { task: Task }): Outcome {
  const { env, out, me } = ctx;
  if (!env.action) return out;
  const card = T.takenCard(r.task, k.roster, me.id);
  out.clickedCard = card;
  if (env.action.responseCode)
    out.send(
      { kind: 'clicked_card', channel: env.channel, person: me.id, responseCode: env.action.responseCode },
      { type: 'card', card },
    );
  return out;
}

const stepLabel: Record<Step, string> = {
  claim: '接单',
  ack: '确认',
  resume: '恢复',
  assign: '派单',
  transfer: '转单',
  hold: '挂起',
  done: '完工',
  accept: '验收',
  reopen: '退回返工',
  rate: '评价',
  cancel: '撤销',
  autoaccept: '自动验收',
};

export const eventLabel: Record<string, string> = {
  created: '报修',
  claimed: '接单',
  acknowledged: '确认接单',
  assigned: '派单',
  transferred: '转单',
  held: '挂起',
  resumed: '恢复',
  done: '完工',
  accepted: '验收',
  reopened: '返工',
  rated: '评价',
  cancelled: '撤销',
  nudged: '催办',
  noted: '进展',
  followed: '同报（加关注）',
  unfollowed: '不是同一个',
  reminded: '提醒',
  escalated: '上报主任',
  auto_accepted: '自动好评',
  answered: '答复',
};

function refuseActor(step: Step, task: Task, roster: Roster): string {
  if (['hold', 'done', 'transfer', 'ack'].includes(step))
    return `只有处理人${roster.name(task.assignee)}或后勤主任可以${stepLabel[step]} #${task.id}。`;
  return `只有报修人${roster.name(task.reporter)}或后勤主任可以${stepLabel[step]} #${task.id}。`;
}

/**
 * Tells the reporter, and everyone who reported the same problem since (followers), what happened to the task.
 * `except` is the person acting, who already has the reply.
 */
export async function tellReporters(
  k: StepKit,
  out: Outcome,
  task: Task,
  text: string,
  except?: string,
): Promise<Outcome> {
  if (task.reporter !== except) out.dm(task.reporter, text);
  for (const f of await k.tasks.followers(task.id))
    if (f !== except && f !== task.reporter) out.dm(f, text.replace('你报的', '你关注的'));
  return out;
}
