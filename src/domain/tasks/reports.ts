// Reports: 报修 / 保洁 / 餐评 become a task (or, for a meal score that is not low, only a feedback record). A report
// without a place waits for one (SideStore pending) and is finished by the reporter's next message (service.ts).
import { mentionsFoodSafety } from '../../commands/classify.js';
import type { Intent } from '../../commands/intent.js';
import { dateIn } from '../../util/time.js';
import type { Outcome } from '../outcome.js';
import type { Ctx, StepKit } from './steps.js';
import type { Task } from './task.js';
import { photosForReport } from './photos.js';
import * as T from './texts.js';

/** How long the bot waits for 是 / 不是 to its question. */
const ASK_TTL_MS = 30 * 60_000;

export async function report(k: StepKit, ctx: Ctx, intent: Intent, chatKey: string): Promise<Outcome> {
  const { out, me, env, now } = ctx;
  const kind = intent.kind ?? 'repair';
  const text = (intent.text ?? env.text ?? '').trim();
  if (intent.unsure) return askFirst(k, ctx, intent, chatKey, text);
  if (kind === 'meal') return mealReport(k, ctx, intent, text);
  if (!intent.place) {
    await k.side.setPending(
      chatKey,
      me.id,
      { kind, trade: intent.trade, text, urgent: !!intent.urgent, envelopeId: env.id, at: now },
      k.roster.config.sla.pendingReport,
    );
    return out.reply(`${intent.urgent ? '收到紧急情况！' : ''}${T.askPlace}`);
  }
  return createTask(k, ctx, { kind, trade: intent.trade, place: intent.place, text, urgent: !!intent.urgent }, env.id);
}

async function mealReport(k: StepKit, ctx: Ctx, intent: Intent, text: string): Promise<Outcome> {
  const { out, me, env, now } = ctx;
  const low = intent.rating !== undefined && intent.rating <= k.roster.config.meals.lowRating;
  const safety = !!intent.urgent;
  // The ledger's dated meal records (records.ts), the same storage the meal rounds write.
  const date = dateIn(k.roster.config.org.timezone, now);
  const record = (task?: number) => ({
    at: now,
    person: me.id,
    ...(intent.rating !== undefined ? { rating: intent.rating } : {}),
    ...(text ? { text } : {}),
    urgent: safety,
    ...(task !== undefined ? { task } : {}),
  });
  // A hair or an insect is not urgent, but it is the canteen's to answer: a task, like a low score.
  if (!low && !safety && !mentionsFoodSafety(text)) {
    await k.side.addMealFeedback(record(), date, env.id);
    return out.reply(`谢谢反馈${intent.rating ? `（${'★'.repeat(intent.rating)}）` : ''}，已转达食堂。`);
  }
  const place = intent.place ?? k.roster.config.places.find((p) => p.name === '厨房' || p.name === '食堂')?.name;
  const res = await createTask(
    k,
    ctx,
    { kind: 'meal', trade: intent.trade, place, text: text || '餐评低分', urgent: safety, mealRating: intent.rating },
    env.id,
  );
  await k.side.addMealFeedback(record(res.route?.task), date, env.id);
  return res;
}

type NewReport = {
  kind: Task['kind'];
  trade?: string;
  place?: string;
  text: string;
  urgent: boolean;
  mealRating?: number;
};

/** How long 不是同一个 can split a folded report off again. */
const SPLIT_TTL_MS = 30 * 60_000;

export async function createTask(
  k: StepKit,
  ctx: Ctx,
  r: NewReport,
  sourceId: string,
  /** false when the reporter said 不是同一个: open a task of its own whatever else is open. */
  fold = true,
): Promise<Outcome> {
  const { out, me, env, now } = ctx;
  if (fold) {
    const same = await k.tasks.sameProblem(r.kind, r.place, r.trade);
    if (same) {
      await photosForReport(k, ctx, same.id);
      return foldInto(k, ctx, same, r);
    }
  }
  const source = { channel: env.channel, surface: env.surface, chatId: env.chat.id, chatType: env.chat.type };
  const { id, team, owner } = await k.openTask(out, { ...r, reporter: me.id, source }, sourceId, now);
  await photosForReport(k, ctx, id);
  await k.tasks.markProblem({ id, ...r }, k.roster.config.sla.duplicateWindow);
  const who = owner ? `${k.roster.name(owner)}（${team}）` : team;
  const where = r.place ? `【${r.place}】` : '';
  return out.reply(
    `${r.urgent ? '🔴 紧急' : '✅ 已登记'} #${id} ${T.kindLabel[r.kind]}${where}${T.what(r)}\n已通知${who}，有人接单会告诉你。发"进度 ${id}"可随时查看。`,
  );
}

/**
 * Not sure it is a report ("又坏了", a fault with nothing named): ask one question instead of opening a task or
 * replying with help. The card goes to the person (buttons need a 1:1 chat on WeCom); the chat gets the same question
 * as text, answered by typing 是 / 不是.
 */
async function askFirst(k: StepKit, ctx: Ctx, intent: Intent, chatKey: string, text: string): Promise<Outcome> {
  const { out, me, env, now } = ctx;
  const what = text.slice(0, 30);
  await k.side.setAsk(
    me.id,
    { intent: { ...intent, unsure: undefined }, chat: chatKey, envelopeId: env.id, at: now },
    ASK_TTL_MS,
  );
  const label = T.kindLabel[intent.kind ?? 'repair'];
  out.reply(`是要${label}「${what}」吗？回复“是”就登记，回复“不是”就算了。`);
  return out.send(
    { kind: 'user', person: me.id },
    {
      type: 'card',
      card: {
        ref: `ask${env.id}`.slice(0, 60),
        title: `是要${label}吗？`,
        description: what,
        fields: [],
        buttons: [
          { text: label, key: 'ask:yes', style: 'primary' },
          { text: '不是', key: 'ask:no', style: 'default' },
        ],
      },
    },
  );
}

/** 是 / 不是 to askFirst's question, typed or tapped. A 不是 is kept for the manager (未识别), with the guess. */
export async function answerAsk(k: StepKit, ctx: Ctx, yes: boolean): Promise<Outcome | undefined> {
  const { out, me, env, now } = ctx;
  const ask = await k.side.takeAsk(me.id);
  if (!ask) return env.action ? out.reply('这个问题已经答过了。') : undefined;
  if (yes) return report(k, { ...ctx, env: { ...env, id: ask.envelopeId } }, ask.intent, ask.chat);
  await k.side.addUnread({
    at: now,
    person: me.id,
    channel: env.channel,
    chat: ask.chat,
    text: ask.intent.text ?? '',
    reason: 'declined',
    guess: `${T.kindLabel[ask.intent.kind ?? 'repair']}${ask.intent.trade ? ` · ${ask.intent.trade}` : ''}`,
  });
  return out.reply('好的，不登记。需要报修时直接说哪里什么坏了，例如：三楼热水器不出热水。');
}

/**
 * A second report of the same place and trade while the first is still open: no second task. The new reporter follows
 * the first (hears its progress; the task counts them) and can say 不是同一个 to split it off.
 */
async function foldInto(k: StepKit, ctx: Ctx, task: Task, r: NewReport): Promise<Outcome> {
  const { out, me, env, now } = ctx;
  const where = `${task.place ?? ''}${task.trade ?? ''}`;
  const who = task.assignee ? `（${k.roster.name(task.assignee)}）` : '（待接单）';
  if (task.reporter === me.id)
    return out.reply(`你已经报过了：${where} #${task.id} 正在处理${who}。发"进度 ${task.id}"可查看。`);
  await k.tasks.follow(task.id, me.id, now);
  await k.side.setFolded(
    me.id,
    { task: task.id, intent: { intent: 'report', ...r }, chat: `${env.channel}:${env.chat.id}`, envelopeId: env.id },
    SPLIT_TTL_MS,
  );
  return out.reply(
    `${where} #${task.id} 已在处理${who}，已为你加关注，有进展会告诉你。如果不是同一个问题，请回复“不是同一个”。`,
  );
}

/** 不是同一个: the report just folded into another task gets a task of its own. */
export async function splitFolded(k: StepKit, ctx: Ctx): Promise<Outcome | undefined> {
  const f = await k.side.takeFolded(ctx.me.id);
  if (!f) return undefined;
  await k.tasks.unfollow(f.task, ctx.me.id, ctx.now);
  const i = f.intent;
  return createTask(
    k,
    ctx,
    { kind: i.kind ?? 'repair', trade: i.trade, place: i.place, text: i.text ?? '', urgent: !!i.urgent },
    `${f.envelopeId}:split`,
    false,
  );
}
