// meal.<meal>: after each configured meal (meals.rounds[].ask) the round's chats are asked for a 1–5 score of it,
// naming today's dishes from the menu. For `window` after the ask a bare score in those chats is that meal's
// rating (src/domain/meals/ratings.ts). Once per day and meal: a re-run of the same day asks nothing again.
import type { MealRound } from '../src/config/schema.js';
import { askText, dishesOf } from '../src/domain/meals/menu.js';
import { Outcome } from '../src/domain/outcome.js';
import type { JobDefinition, JobFactory } from '../src/scheduler/job.js';
import { MealStore, firstFiring } from '../src/store/meals.js';

export function mealRoundJob(r: MealRound): JobDefinition {
  return {
    name: `meal.${r.meal}`,
    title: `${r.meal}评价`,
    schedule: r.ask,
    everyDay: false,
    // Asking late is still worth it while most of the window is ahead.
    catchUpMs: Math.min(r.window / 2, 3_600_000),
    async run(ctx) {
      const out = new Outcome();
      if (!(await firstFiring(ctx.redis, ctx.prefix, `meal:${ctx.date}:${r.meal}`, ctx.firing))) return out;
      const meals = new MealStore(ctx.redis, ctx.prefix);
      const dishes = dishesOf(ctx.config, ctx.date, r.meal);
      for (const chat of r.chats) {
        await meals.openRound(chat, {
          meal: r.meal,
          date: ctx.date,
          askedAt: ctx.at,
          until: ctx.at + r.window,
          ...(dishes ? { dishes } : {}),
        });
        out.send({ kind: 'chat', chat }, { type: 'text', text: askText(r.meal, dishes, r.window) });
      }
      return out;
    },
  };
}

const factory: JobFactory = (config) => config.meals.rounds.map(mealRoundJob);
export default factory;
