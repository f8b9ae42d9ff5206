// Scores for the meal just asked about: for a round's window, "4", "5 好吃", "★★★★ 汤有点咸", "四分",
// "3 米饭偏硬" in the round's chats are that meal's rating. Other text — commands, reports — is left to the parser.
// A low score or a food-safety word becomes a meal task for the canteen, as a 餐评 does.
import type { Envelope } from '../channels/envelope.js';
import { isUrgent } from '../commands/classify.js';
import { isCommand } from '../commands/command-guard.js';
import { normalize, trimPunct } from '../commands/normalize.js';
import { takeRating, takeTrailingRating } from '../commands/numbers.js';
import type { Parser } from '../commands/parser.js';
import type { Person } from '../config/schema.js';
import type { MealStore } from '../store/meals.js';
import { chatOf } from './chat-of.js';
import { kitchenOf } from './meals.js';
import type { Outcome } from './outcome.js';
import type { Roster } from './roster.js';
import type { Conversation, TaskService } from './service.js';

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
    const config = this.d.roster.config;
    const safety = isUrgent(comment ?? '', 'meal');
    let task: number | undefined;
    if (rating <= config.meals.lowRating || safety) {
      const source = { channel: env.channel, surface: env.surface, chatId: env.chat.id, chatType: env.chat.type };
      const t = await this.d.service.openTask(out, {
        kind: 'meal', place: kitchenOf(config), text: `${round.meal}评价 ${rating}分${comment ? `：${comment}` : ''}`,
        urgent: safety, reporter: me.id, source, mealRating: rating,
      }, env.id, now);
      task = t.id;
    }
    await this.d.meals.add(round.date, { at: now, person: me.id, meal: round.meal, rating, ...(comment ? { text: comment } : {}), urgent: safety, ...(task ? { task } : {}) }, env.id);
    const stars = '★'.repeat(rating);
    if (task) out.reply(`${safety ? '🔴 ' : ''}收到${round.meal}评价 ${stars}，已转食堂 #${task}${safety ? '（食品安全，紧急处理）' : ''}，食堂答复后会告诉你。`);
    else out.reply(`谢谢！${round.meal} ${stars} 已记录${comment ? '，意见已转达食堂' : ''}。`);
    return true;
  }
}
