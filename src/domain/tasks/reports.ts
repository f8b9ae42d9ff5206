// Reports: 报修 / 保洁 / 餐评 become a task (or, for a meal score that is not low, only a feedback record). A report
// without a place waits for one (SideStore pending) and is finished by the reporter's next message (service.ts).
import type { Intent } from '../../commands/intent.js';
import { dateIn } from '../../util/time.js';
import type { Outcome } from '../outcome.js';
import type { Ctx, StepKit } from './steps.js';
import type { Task } from './task.js';
import * as T from './texts.js';

export async function report(k: StepKit, ctx: Ctx, intent: Intent, chatKey: string): Promise<Outcome> {
  const { out, me, env, now } = ctx;
  const kind = intent.kind ?? 'repair';
  const text = (intent.text ?? env.text ?? '').trim();
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
  if (!low && !safety) {
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

export async function createTask(
  k: StepKit,
  ctx: Ctx,
  r: { kind: Task['kind']; trade?: string; place?: string; text: string; urgent: boolean; mealRating?: number },
  sourceId: string,
): Promise<Outcome> {
  const { out, me, env, now } = ctx;
  const source = { channel: env.channel, surface: env.surface, chatId: env.chat.id, chatType: env.chat.type };
  const { id, team, owner } = await k.openTask(out, { ...r, reporter: me.id, source }, sourceId, now);
  const who = owner ? `${k.roster.name(owner)}（${team}）` : team;
  const where = r.place ? `【${r.place}】` : '';
  return out.reply(
    `${r.urgent ? '🔴 紧急' : '✅ 已登记'} #${id} ${T.kindLabel[r.kind]}${where}${T.what(r)}\n已通知${who}，有人接单会告诉你。发"进度 ${id}"可随时查看。`,
  );
}
