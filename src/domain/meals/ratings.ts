// Scores for the meal just asked about: for a round's window, "4", "5 好吃", "★★★★ 汤有点咸", "四分",
// "3 米饭偏硬" in the round's chats are that meal's rating. Other text — commands, reports — is left to the parser.
// A low score or a food-safety word becomes a meal task for the canteen, as a 餐评 does. A person has one score per
// meal and day: a second one replaces the first (the digest and the ledger count one), and a complaint already
// raised about that meal is not raised twice.
import type { Envelope } from '../../channels/envelope.js';
import { isUrgent, mentionsFoodSafety } from '../../commands/classify.js';
import { isCommand } from '../../commands/command-guard.js';
import { normalize, trimPunct } from '../../commands/normalize.js';
import { takeRating, takeTrailingRating } from '../../commands/numbers.js';
import type { Parser } from '../../commands/parser.js';
import type { Person } from '../../config/schema.js';
import type { MealStore } from '../../store/meals.js';
import { chatOf } from '../chat-of.js';
import { kitchenOf } from './menu.js';
import type { Outcome } from '../outcome.js';
import type { Roster } from '../roster.js';
import type { Conversation, TaskService } from '../tasks/service.js';

export interface MealRatingsDeps {
  meals: MealStore;
  service: TaskService;
  roster: Roster;
  parser: Parser;
}

export class MealRatings implements Conversation {
  constructor(private d: MealRatingsDeps) {}

  async offer(env: Envelope, me: Person, out: Outcome, now: number): Promise<boolean> {
    const text = env.text?.trim();
    const chat = text ? chatOf(this.d.roster.config, env) : undefined;
    if (!text || !chat) return false;
    const round = await this.d.meals.round(chat);
    if (!round || now < round.askedAt || now > round.until) return false;
    const msg = normalize(text);
    let r = takeRating(msg);
    if (r.value === undefined) r = takeTrailingRating(msg);
    if (r.value === undefined || isCommand(this.d.parser, text)) return false;
    const intent = this.d.parser.parse(text);
    if (intent.intent === 'report' && intent.kind !== 'meal') return false; // "2 号楼漏水" is a repair, not two stars
    const rating = r.value;
    const comment = trimPunct(r.rest.trim()) || undefined;
    const safety = isUrgent(comment ?? '', 'meal');
    // A hair in the soup goes to the canteen whatever the score; only illness, danger or spoiled food is urgent.
    const low = rating <= this.d.roster.config.meals.lowRating || safety || mentionsFoodSafety(comment ?? '');
    // One score per person, meal and day: a second score replaces the first. A complaint opens one task per person
    // and meal that day — its source id says so, so neither a second low score nor a race opens another.
    let opened: number | undefined; // opened by this message (kept across retries of the write)
    for (let attempt = 0; attempt < 10; attempt++) {
      const prev = await this.d.meals.ratingOf(round.date, me.id, round.meal);
      let task = prev?.feedback.task ?? opened;
      if (low && task === undefined) {
        const source = { channel: env.channel, surface: env.surface, chatId: env.chat.id, chatType: env.chat.type };
        const t = await this.d.service.openTask(
          out,
          {
            kind: 'meal',
            place: kitchenOf(this.d.roster.config),
            text: `${round.meal}评价 ${rating}分${comment ? `：${comment}` : ''}`,
            urgent: safety,
            reporter: me.id,
            source,
            mealRating: rating,
          },
          `meal.${round.date}.${round.meal}.${me.id}`,
          now,
        );
        task = opened = t.id;
      }
      const entry = {
        at: now,
        person: me.id,
        meal: round.meal,
        rating,
        ...(comment ? { text: comment } : {}),
        urgent: safety,
        ...(task !== undefined ? { task } : {}),
        ...(prev?.feedback.answer ? { answer: prev.feedback.answer } : {}),
      };
      const put = await this.d.meals.putRating(round.date, entry, prev, env.id);
      if (put === 'conflict') continue;
      const isNew = opened !== undefined && task === opened;
      out.reply(
        put === 'replaced' && prev
          ? updatedText(round.meal, rating, prev.feedback.rating, task, isNew, low, safety, comment)
          : firstText(round.meal, rating, isNew ? task : undefined, safety, comment),
      );
      return true;
    }
    throw new Error(`meal score of ${me.id} for ${round.meal} on ${round.date} kept changing under us`);
  }
}

/** The reply to a person's first score for a meal today. */
function firstText(
  meal: string,
  rating: number,
  task: number | undefined,
  safety: boolean,
  comment: string | undefined,
): string {
  const stars = '★'.repeat(rating);
  if (task !== undefined)
    return `${safety ? '🔴 ' : ''}收到${meal}评价 ${stars}，已转食堂 #${task}${safety ? '（食品安全，紧急处理）' : ''}，食堂答复后会告诉你。`;
  return `谢谢！${meal} ${stars} 已记录${comment ? '，意见已转达食堂' : ''}。`;
}

/** The reply to a second score for the same meal: it replaced the first; a complaint already raised is not raised twice. */
function updatedText(
  meal: string,
  rating: number,
  before: number | undefined,
  task: number | undefined,
  isNew: boolean,
  low: boolean,
  safety: boolean,
  comment: string | undefined,
): string {
  const head = `已更新你对${meal}的评分：${rating} 分${before !== undefined && before !== rating ? `（原来 ${before} 分）` : ''}`;
  if (task !== undefined && isNew)
    return `${safety ? '🔴 ' : ''}${head}，已转食堂 #${task}${safety ? '（食品安全，紧急处理）' : ''}，食堂答复后会告诉你。`;
  if (task !== undefined && low) return `${head}。这餐的意见已转食堂 #${task}（不重复开单），食堂答复后会告诉你。`;
  return `${head}${comment ? '，意见已转达食堂' : ''}。`;
}
