// Meals (膳食): the week's menu as posted (食谱公示), today's dishes for a round's question, and the texts.
import type { Config } from '../../config/schema.js';
import { addDays, weekday, type SchoolCalendar } from '../../scheduler/calendar.js';
import { formatDuration } from '../../util/duration.js';

const dayKeys = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const dayNames = ['周一', '周二', '周三', '周四', '周五', '周六', '周日'];

const md = (date: string) => `${Number(date.slice(5, 7))}月${Number(date.slice(8, 10))}日`;

/** Today's dishes of one meal from the weekly menu ("番茄炒蛋、清炒西兰花、米饭、紫菜汤"), when the menu has them. */
export function dishesOf(config: Config, date: string, meal: string): string | undefined {
  return config.meals.menu[dayKeys[weekday(date) - 1]]?.[meal];
}

/**
 * The week's menu from `date` (the first school day) to Sunday, school days only unless `everyDay`, as markdown
 * that reads on a phone. Undefined when the menu has nothing for those days.
 */
export function weekMenu(config: Config, date: string, calendar: SchoolCalendar, everyDay = false): string | undefined {
  const days: string[] = [];
  for (let d = date; weekday(d) >= weekday(date); d = addDays(d, 1)) {
    if ((everyDay || calendar.isSchoolDay(d)) && config.meals.menu[dayKeys[weekday(d) - 1]]) days.push(d);
    if (weekday(d) === 7) break;
  }
  if (!days.length) return undefined;
  const lines = [`### 🍱 ${config.org.name} 本周食谱（${md(days[0])}—${md(days.at(-1)!)}）`];
  for (const d of days) {
    lines.push('', `**${dayNames[weekday(d) - 1]} ${md(d)}**`);
    for (const [meal, dishes] of Object.entries(config.meals.menu[dayKeys[weekday(d) - 1]]!))
      lines.push(`${meal}：${dishes}`);
  }
  lines.push('', '> 饭后可直接回复 1–5 分评价，或随时发“餐评 4 汤有点咸”。');
  return lines.join('\n');
}

/** The round's question: "今天午餐（番茄炒蛋、…）大家觉得怎么样？" */
export function askText(meal: string, dishes: string | undefined, windowMs: number): string {
  return [
    `🍽 今天${meal}${dishes ? `（${dishes}）` : ''}大家觉得怎么样？`,
    `请直接回复 1–5 分，可加一句意见，例如“4 汤有点咸”“★★★★★ 好吃”。${formatDuration(windowMs)}内回复有效。`,
  ].join('\n');
}

/** The place a meal task goes to: the kitchen as the config names it. */
export function kitchenOf(config: Config): string | undefined {
  return config.places.find((p) => ['厨房', '食堂'].includes(p.name) || p.aliases.includes('食堂'))?.name;
}
