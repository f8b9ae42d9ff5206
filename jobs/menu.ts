// menu: the week's menu (meals.menu) posted to meals.menuChats at meals.menuPost, on the first school day of the
// week only (a Monday holiday makes it Tuesday). Once per day: a re-run of the same day posts nothing.
import { weekMenu } from '../src/domain/meals/menu.js';
import { Outcome } from '../src/domain/outcome.js';
import type { JobDefinition, JobFactory } from '../src/scheduler/job.js';
import { firstFiring } from '../src/store/meals.js';

const factory: JobFactory = (config) => {
  const { menu, menuChats, menuPost } = config.meals;
  if (!menuChats.length || !Object.keys(menu).length) return [];
  const job: JobDefinition = {
    name: 'menu',
    title: '食谱公示（每周第一个上学日）',
    schedule: menuPost,
    everyDay: false,
    catchUpMs: 4 * 3_600_000,
    when: (date, calendar) => calendar.isFirstSchoolDayOfWeek(date),
    async run(ctx) {
      const out = new Outcome();
      const text = weekMenu(ctx.config, ctx.date, ctx.calendar, ctx.config.jobs.menu?.everyDay ?? false);
      if (!text || !(await firstFiring(ctx.redis, ctx.prefix, `menu:${ctx.date}`, ctx.firing))) return out;
      for (const chat of ctx.config.meals.menuChats) out.send({ kind: 'chat', chat }, { type: 'markdown', text });
      return out;
    },
  };
  return [job];
};
export default factory;
