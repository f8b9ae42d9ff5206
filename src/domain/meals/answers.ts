// 答复: the canteen answers a meal complaint in chat — "答复 12 明天换新米" (also 回复 12 …). The person who raised
// it hears the answer by DM, the feedback record keeps it (MealFeedback.answer), the task's history gets an event.
// Only the canteen manager (canteen_manager) or the logistics manager may answer.
import type { Envelope } from '../../channels/envelope.js';
import { normalize, trimPunct } from '../../commands/normalize.js';
import type { Person } from '../../config/schema.js';
import type { SchoolCalendar } from '../../scheduler/calendar.js';
import { addDays } from '../../scheduler/calendar.js';
import type { MealStore } from '../../store/meals.js';
import type { TaskStore } from '../../store/tasks.js';
import type { Outcome } from '../outcome.js';
import type { Roster } from '../roster.js';
import type { Conversation } from '../tasks/service.js';
import { what } from '../tasks/texts.js';

export interface MealAnswersDeps {
  meals: MealStore;
  tasks: TaskStore;
  roster: Roster;
  calendar: SchoolCalendar;
}

const answerRe = /^(?:答复|回复)\s*(?:#|第|no\.?)?\s*(\d{1,9})\s*(?:号单?|单)?(?=[\s:,]|$)([\s\S]*)$/i;

export class MealAnswers implements Conversation {
  constructor(private d: MealAnswersDeps) {}

  async offer(env: Envelope, me: Person, out: Outcome, now: number): Promise<boolean> {
    const m = answerRe.exec(normalize(env.text ?? ''));
    if (!m) return false;
    const id = Number(m[1]);
    const text = trimPunct(m[2].replace(/\n/g, ' ').trim());
    const { roster } = this.d;
    if (!roster.has(me.id, 'canteen_manager') && !roster.isManager(me.id)) {
      out.reply('只有食堂负责人或后勤主任可以答复餐评。');
      return true;
    }
    const task = await this.d.tasks.get(id);
    if (!task) {
      out.reply(`没有找到 #${id}，请核对任务号。`);
      return true;
    }
    if (task.kind !== 'meal') {
      out.reply(`#${id} 不是餐评，不用答复；处理完请回复“完工 ${id}”。`);
      return true;
    }
    if (!text) {
      out.reply(`请写上答复内容，例如：答复 ${id} 明天换新米`);
      return true;
    }
    await this.d.tasks.note(id, { at: now, by: me.id, type: 'answered', text });
    const day = this.d.calendar.dateOf(task.createdAt);
    await this.d.meals.answer(id, [day, addDays(day, -1), addDays(day, 1)], { by: me.id, at: now, text });
    if (task.reporter !== me.id)
      out.dm(task.reporter, `💬 关于你的餐评 #${id}（${what(task)}），${me.name}答复：${text}`);
    out.reply(`已答复 #${id}${task.reporter !== me.id ? `，已转告${roster.name(task.reporter)}` : ''}。`);
    return true;
  }
}
