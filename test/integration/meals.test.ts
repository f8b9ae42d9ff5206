// Meals on real Redis: the menu on the first school day of the week only, meal rounds whose scores count inside
// their window and not after it, low scores and food-safety words as canteen tasks, 答复 back to the complainer,
// and 餐评 writing the same dated ledger records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';
import { loadSettings } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createParser } from '../../src/commands/parser.js';
import { Roster } from '../../src/domain/roster.js';
import { TaskService } from '../../src/domain/service.js';
import { ChecklistAnswers } from '../../src/domain/checklist-answers.js';
import { MealAnswers } from '../../src/domain/meal-answers.js';
import { MealRatings } from '../../src/domain/meal-ratings.js';
import type { Outcome } from '../../src/domain/outcome.js';
import { recordKeys, type MealFeedback } from '../../src/domain/records.js';
import { SchoolCalendar } from '../../src/scheduler/calendar.js';
import { runsOn } from '../../src/scheduler/scheduler.js';
import type { JobContext } from '../../src/scheduler/job.js';
import { TaskStore } from '../../src/store/tasks.js';
import { SideStore } from '../../src/store/side.js';
import { ChecklistStore } from '../../src/store/checklists.js';
import { MealStore } from '../../src/store/meals.js';
import { keys } from '../../src/store/keys.js';
import { createLogger } from '../../src/log.js';
import { allJobs } from '../../jobs/index.js';
import type { Envelope } from '../../src/channels/envelope.js';

const prefix = testPrefix('meals');
const DATE = '2026-03-11'; // a Wednesday: 清蒸鱼、土豆丝、杂粮饭、番茄汤
const at = (hhmm: string, date = DATE) => Date.parse(`${date}T${hhmm}:00+08:00`);
let redis: Redis;
let config: Config;
let roster: Roster;
let calendar: SchoolCalendar;
let service: TaskService;
let tasks: TaskStore;
let side: SideStore;
let meals: MealStore;
let n = 0;

beforeAll(() => {
  config = loadSettings({}, 'config/example.yaml').config;
  redis = redisClient();
  tasks = new TaskStore(redis, prefix);
  side = new SideStore(redis, keys(prefix));
  meals = new MealStore(redis, prefix);
  roster = new Roster(config);
  calendar = new SchoolCalendar(config.calendar, config.org.timezone);
  service = new TaskService(tasks, side, roster, createParser(config));
  const parser = createParser(config);
  // Wired as in app.ts: checklist answers, 答复, meal scores — all before the parser.
  service.use(new ChecklistAnswers({ store: new ChecklistStore(redis, prefix), service, roster, calendar, parser }));
  service.use(new MealAnswers({ meals, tasks, roster, calendar }));
  service.use(new MealRatings({ meals, service, roster, parser }));
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

const job = (name: string) => allJobs(config).find((j) => j.name === name)!;

async function runJob(name: string, when: number, firing = `${name}@${when}`, cal = calendar): Promise<Outcome> {
  const ctx: JobContext = { config, roster, calendar: cal, tasks, side, service, redis, prefix, log: createLogger('silent'), at: when, date: cal.dateOf(when), firing };
  return (await job(name).run(ctx)) as Outcome;
}

function env(person: string, text: string, chat: string): Envelope {
  const msgId = `m${++n}`;
  return { id: `local:test:${msgId}`, channel: 'local', surface: 'console', msgId, chat: { id: chat, type: chat.startsWith('dm:') ? 'single' : 'group' }, sender: { platformId: person }, text, receivedAt: Date.now() };
}

const say = (person: string, text: string, chat: string, now: number) => service.handle(env(person, text, chat), now);
const replyText = (o: Outcome) => o.messages.filter((m) => m.to.kind === 'reply').map((m) => ('text' in m.message ? m.message.text : '')).join('\n');
const dmText = (o: Outcome, person: string) => o.messages.filter((m) => m.to.kind === 'user' && m.to.person === person).map((m) => ('text' in m.message ? m.message.text : '')).join('\n');
const day = async (date: string): Promise<MealFeedback[]> => (await redis.lrange(recordKeys(prefix).mealDay(date), 0, -1)).map((s) => JSON.parse(s) as MealFeedback);

describe('the weekly menu (食谱公示)', () => {
  it('runs on the first school day of the week only: a Monday holiday makes Tuesday the first', () => {
    const menu = job('menu');
    expect(runsOn(menu, '2026-03-09', calendar)).toBe(true); // an ordinary Monday
    expect(runsOn(menu, '2026-03-10', calendar)).toBe(false);
    expect(runsOn(menu, '2026-04-06', calendar)).toBe(false); // 清明 observed on Monday
    expect(runsOn(menu, '2026-04-07', calendar)).toBe(true);
    expect(runsOn(menu, '2026-04-08', calendar)).toBe(false);
    const closedMonday = new SchoolCalendar({ ...config.calendar, holidays: ['2026-03-16'] }, config.org.timezone); // a 停课 day from the config
    expect(runsOn(menu, '2026-03-16', closedMonday)).toBe(false);
    expect(runsOn(menu, '2026-03-17', closedMonday)).toBe(true);
  });

  it('posts the school days of the week as markdown, once', async () => {
    const o = await runJob('menu', at('07:00', '2026-04-07'));
    expect(o.messages).toHaveLength(1);
    expect(o.messages[0].to).toEqual({ kind: 'chat', chat: 'staff' });
    const m = o.messages[0].message;
    expect(m.type).toBe('markdown');
    const text = 'text' in m ? m.text : '';
    expect(text).toContain('本周食谱（4月7日—4月10日）');
    expect(text).toContain('**周二 4月7日**');
    expect(text).toContain('午餐：红烧鸡腿、炒青菜、米饭、冬瓜汤');
    expect(text).not.toContain('周一');
    expect((await runJob('menu', at('07:00', '2026-04-07'), 'run-now')).messages).toEqual([]);
  });
});

describe('meal rounds', () => {
  let complaint: number;

  it('asks the round’s chats about today’s dishes', async () => {
    const o = await runJob('meal.午餐', at('12:40'));
    expect(o.messages.map((m) => m.to)).toEqual([{ kind: 'chat', chat: 'staff' }]);
    expect('text' in o.messages[0].message && o.messages[0].message.text).toContain('今天午餐（清蒸鱼、土豆丝、杂粮饭、番茄汤）');
    expect((await runJob('meal.午餐', at('12:45'), 'run-now')).messages).toEqual([]);
  });

  it('takes bare scores in the window as that meal’s rating', async () => {
    for (const [who, text] of [['wang_li', '4'], ['li_na', '3 米饭偏硬'], ['zhao_jing', '★★★★ 汤有点咸'], ['sun_yan', '四分'], ['huang_ys', '5 好吃']] as const) {
      const o = await say(who, text, 'staff', at('12:50'));
      expect(replyText(o)).toMatch(/^谢谢！午餐 ★+ 已记录/);
      expect(o.route).toBeUndefined();
    }
    const stored = await day(DATE);
    expect(stored.map((f) => [f.person, f.meal, f.rating, f.text, f.urgent])).toEqual([
      ['wang_li', '午餐', 4, undefined, false],
      ['li_na', '午餐', 3, '米饭偏硬', false],
      ['zhao_jing', '午餐', 4, '汤有点咸', false],
      ['sun_yan', '午餐', 4, undefined, false],
      ['huang_ys', '午餐', 5, '好吃', false],
    ]);
  });

  it('a low score is a canteen task; a food-safety word an urgent one', async () => {
    const low = await say('zhang_min', '2 鱼有点腥', 'staff', at('13:00'));
    complaint = low.route!.task;
    expect(replyText(low)).toContain(`已转食堂 #${complaint}`);
    expect(await tasks.get(complaint)).toMatchObject({ kind: 'meal', team: 'shitang', place: '厨房', urgent: false, mealRating: 2, reporter: 'zhang_min', text: '午餐评价 2分：鱼有点腥' });
    const unsafe = await say('liu_fang', '4 汤里有头发', 'staff', at('13:01'));
    expect(await tasks.get(unsafe.route!.task)).toMatchObject({ kind: 'meal', urgent: true, mealRating: 4 });
    expect(replyText(unsafe)).toContain('食品安全');
    const stored = await day(DATE);
    expect(stored.at(-2)).toMatchObject({ person: 'zhang_min', meal: '午餐', rating: 2, task: complaint, urgent: false });
    expect(stored.at(-1)).toMatchObject({ person: 'liu_fang', meal: '午餐', rating: 4, urgent: true, task: unsafe.route!.task });
  });

  it('leaves commands, reports and other chats to the parser; after the window a score is not taken', async () => {
    const report = await say('wang_li', '报修 小一班 灯坏了', 'staff', at('13:10'));
    expect(report.route?.kind).toBe('repair');
    const building = await say('zhao_jing', '2 号楼漏水', 'staff', at('13:11'));
    expect(replyText(building)).toContain('在哪里'); // a repair waiting for its place, not two stars
    const status = await say('wang_li', `进度 ${complaint}`, 'staff', at('13:12'));
    expect(replyText(status)).toContain('状态');
    const before = (await day(DATE)).length;
    expect(replyText(await say('wang_li', '4', 'class_xiao1', at('13:13')))).toContain('没看懂');
    expect(replyText(await say('wang_li', '4', 'staff', at('15:41')))).toContain('没看懂');
    expect(await day(DATE)).toHaveLength(before);
  });

  it('the newest round wins in a chat: 午点 scores after its ask', async () => {
    await runJob('meal.午点', at('15:00'));
    await say('li_na', '5', 'staff', at('15:05'));
    expect((await day(DATE)).at(-1)).toMatchObject({ person: 'li_na', meal: '午点', rating: 5 });
  });
});

describe('答复', () => {
  it('the canteen manager’s answer reaches the person who complained, the record and the history', async () => {
    await runJob('meal.午餐', at('12:40', '2026-03-12'));
    const low = await say('zhang_min', '1 米饭太硬', 'staff', at('12:55', '2026-03-12'));
    const id = low.route!.task;
    const refused = await say('wang_li', `答复 ${id} 好的`, 'staff', at('13:30', '2026-03-12'));
    expect(replyText(refused)).toContain('只有食堂负责人或后勤主任可以答复');
    const o = await say('qian_sf', `答复 ${id} 明天换新米`, 'team_shitang', at('14:00', '2026-03-12'));
    expect(replyText(o)).toContain(`已答复 #${id}，已转告张敏`);
    expect(dmText(o, 'zhang_min')).toContain('钱师傅答复：明天换新米');
    expect((await day('2026-03-12')).find((f) => f.task === id)!.answer).toEqual({ by: 'qian_sf', at: at('14:00', '2026-03-12'), text: '明天换新米' });
    expect((await tasks.history(id)).at(-1)).toMatchObject({ type: 'answered', by: 'qian_sf', text: '明天换新米' });
    const manager = await say('chen_zr', `回复 #${id}：已和食堂沟通`, 'manager', at('14:10', '2026-03-12'));
    expect(dmText(manager, 'zhang_min')).toContain('已和食堂沟通');
    expect(replyText(await say('qian_sf', `答复 ${id}`, 'team_shitang', at('14:20', '2026-03-12')))).toContain('请写上答复内容');
  });
});

describe('餐评 (the spine’s command)', () => {
  it('writes the same dated ledger records, once per message', async () => {
    const now = at('18:00', '2026-03-13');
    const e = env('li_na', '餐评 5 今天的包子很好吃', 'staff');
    await service.handle(e, now);
    await service.handle(e, now); // a retried delivery
    const low = await say('li_na', '餐评 1 米饭太硬', 'staff', now);
    const stored = await day('2026-03-13');
    expect(stored).toEqual([
      { at: now, person: 'li_na', rating: 5, text: '今天的包子很好吃', urgent: false },
      { at: now, person: 'li_na', rating: 1, text: '米饭太硬', urgent: false, task: low.route!.task },
    ]);
    expect((await side.mealFeedback()).slice(-2)).toEqual(stored);
  });
});
