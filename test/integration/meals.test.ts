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
import { TaskService } from '../../src/domain/tasks/service.js';
import { ChecklistAnswers } from '../../src/domain/checklists/answers.js';
import { MealAnswers } from '../../src/domain/meals/answers.js';
import { MealRatings } from '../../src/domain/meals/ratings.js';
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
import { digestsFor } from '../../src/domain/digest/service.js';
import { exportMonth } from '../../src/ledger/export.js';
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
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
  const ctx: JobContext = {
    config,
    roster,
    calendar: cal,
    tasks,
    side,
    service,
    redis,
    prefix,
    log: createLogger('silent'),
    at: when,
    date: cal.dateOf(when),
    firing,
  };
  return (await job(name).run(ctx)) as Outcome;
}

function env(person: string, text: string, chat: string): Envelope {
  const msgId = `m${++n}`;
  return {
    id: `local:test:${msgId}`,
    channel: 'local',
    surface: 'console',
    msgId,
    chat: { id: chat, type: chat.startsWith('dm:') ? 'single' : 'group' },
    sender: { platformId: person },
    text,
    receivedAt: Date.now(),
  };
}

const say = (person: string, text: string, chat: string, now: number) => service.handle(env(person, text, chat), now);
const replyText = (o: Outcome) =>
  o.messages
    .filter((m) => m.to.kind === 'reply')
    .map((m) => ('text' in m.message ? m.message.text : ''))
    .join('\n');
const dmText = (o: Outcome, person: string) =>
  o.messages
    .filter((m) => m.to.kind === 'user' && m.to.person === person)
    .map((m) => ('text' in m.message ? m.message.text : ''))
    .join('\n');
const day = async (date: string): Promise<MealFeedback[]> =>
  (await redis.lrange(recordKeys(prefix).mealDay(date), 0, -1)).map((s) => JSON.parse(s) as MealFeedback);

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
    expect('text' in o.messages[0].message && o.messages[0].message.text).toContain(
      '今天午餐（清蒸鱼、土豆丝、杂粮饭、番茄汤）',
    );
    expect((await runJob('meal.午餐', at('12:45'), 'run-now')).messages).toEqual([]);
  });

  it('takes bare scores in the window as that meal’s rating', async () => {
    for (const [who, text] of [
      ['wang_li', '4'],
      ['li_na', '3 米饭偏硬'],
      ['zhao_jing', '★★★★ 汤有点咸'],
      ['sun_yan', '四分'],
      ['huang_ys', '5 好吃'],
    ] as const) {
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

  it('a low score is a canteen task; a food-safety word one too, urgent when food is raw or spoiled', async () => {
    const low = await say('zhang_min', '2 鱼有点腥', 'staff', at('13:00'));
    complaint = low.route!.task;
    expect(replyText(low)).toContain(`已转食堂 #${complaint}`);
    expect(await tasks.get(complaint)).toMatchObject({
      kind: 'meal',
      team: 'shitang',
      place: '厨房',
      urgent: false,
      mealRating: 2,
      reporter: 'zhang_min',
      text: '午餐评价 2分：鱼有点腥',
    });
    // A hair goes to the canteen whatever the score, as a complaint; undercooked chicken is urgent.
    const hair = await say('sun_yan', '4 汤里有头发', 'staff', at('13:00'));
    expect(await tasks.get(hair.route!.task)).toMatchObject({ kind: 'meal', urgent: false, mealRating: 4 });
    const unsafe = await say('liu_fang', '4 鸡肉没熟', 'staff', at('13:01'));
    expect(await tasks.get(unsafe.route!.task)).toMatchObject({ kind: 'meal', urgent: true, mealRating: 4 });
    expect(replyText(unsafe)).toContain('食品安全');
    const stored = await day(DATE);
    expect(stored.at(-2)).toMatchObject({
      person: 'zhang_min',
      meal: '午餐',
      rating: 2,
      task: complaint,
      urgent: false,
    });
    expect(stored.at(-1)).toMatchObject({
      person: 'liu_fang',
      meal: '午餐',
      rating: 4,
      urgent: true,
      task: unsafe.route!.task,
    });
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

describe('a second score for the same meal', () => {
  const D = '2026-03-10'; // a Tuesday (红烧鸡腿), before the days the other tests read as the latest
  const mine = async (person: string) => (await day(D)).filter((f) => f.person === person && f.meal === '午餐');
  let complaint = 0;

  it('replaces the first: one score per person and meal, and the reply says it was updated', async () => {
    await runJob('meal.午餐', at('12:40', D));
    expect(replyText(await say('wang_li', '4', 'staff', at('12:50', D)))).toMatch(/^谢谢！午餐 ★★★★ 已记录/);
    const again = await say('wang_li', '3 有点淡', 'staff', at('12:55', D));
    expect(replyText(again)).toBe('已更新你对午餐的评分：3 分（原来 4 分），意见已转达食堂。');
    expect(again.routes).toEqual([]);
    expect(await mine('wang_li')).toEqual([
      { at: at('12:55', D), person: 'wang_li', meal: '午餐', rating: 3, text: '有点淡', urgent: false },
    ]);
  });

  it('a low second score opens the canteen task the first did not', async () => {
    const low = await say('wang_li', '2', 'staff', at('13:00', D));
    const id = low.route!.task;
    expect(replyText(low)).toBe(`已更新你对午餐的评分：2 分（原来 3 分），已转食堂 #${id}，食堂答复后会告诉你。`);
    expect(await tasks.get(id)).toMatchObject({
      kind: 'meal',
      reporter: 'wang_li',
      mealRating: 2,
      text: '午餐评价 2分',
    });
    expect(await mine('wang_li')).toEqual([
      { at: at('13:00', D), person: 'wang_li', meal: '午餐', rating: 2, urgent: false, task: id },
    ]);
  });

  it('a complaint is not raised twice: the second low score keeps the first task, and its answer', async () => {
    const first = await say('li_na', '2 鸡腿太咸', 'staff', at('12:52', D));
    complaint = first.route!.task;
    const seq = Number(await redis.get(keys(prefix).taskSeq));
    const second = await say('li_na', '1 还是太咸', 'staff', at('13:05', D));
    expect(second.routes).toEqual([]);
    expect(replyText(second)).toBe(
      `已更新你对午餐的评分：1 分（原来 2 分）。这餐的意见已转食堂 #${complaint}（不重复开单），食堂答复后会告诉你。`,
    );
    expect(Number(await redis.get(keys(prefix).taskSeq))).toBe(seq);
    await say('qian_sf', `答复 ${complaint} 明天少放盐`, 'team_shitang', at('13:30', D));
    const better = await say('li_na', '5 今天的汤好喝', 'staff', at('13:40', D));
    expect(replyText(better)).toBe('已更新你对午餐的评分：5 分（原来 1 分），意见已转达食堂。');
    expect(await mine('li_na')).toEqual([
      {
        at: at('13:40', D),
        person: 'li_na',
        meal: '午餐',
        rating: 5,
        text: '今天的汤好喝',
        urgent: false,
        task: complaint,
        answer: { by: 'qian_sf', at: at('13:30', D), text: '明天少放盐' },
      },
    ]);
  });

  it('a retried delivery of the same message changes nothing', async () => {
    const e = env('sun_yan', '4', 'staff');
    await service.handle(e, at('13:10', D));
    await service.handle({ ...e }, at('13:11', D));
    expect(await mine('sun_yan')).toEqual([
      { at: at('13:10', D), person: 'sun_yan', meal: '午餐', rating: 4, urgent: false },
    ]);
  });

  it('two low scores at once from one person: one entry, one task', async () => {
    await runJob('meal.午点', at('15:00', D));
    const both = await Promise.all([
      say('zhao_jing', '1 太甜', 'staff', at('15:05', D)),
      say('zhao_jing', '2 太甜了', 'staff', at('15:05', D)),
    ]);
    const opened = new Set(both.flatMap((o) => o.routes.map((r) => r.task)));
    expect(opened.size).toBe(1);
    const stored = (await day(D)).filter((f) => f.person === 'zhao_jing' && f.meal === '午点');
    expect(stored).toHaveLength(1);
    expect(stored[0].task).toBe([...opened][0]);
  });

  it('the digest averages and the ledger’s meal sheet count one score per person', async () => {
    // 王丽 2, 李娜 5, 孙艳 4 — not the seven scores they sent.
    const { figures } = await digestsFor(tasks, roster, null).figures('day', D, at('18:00', D));
    expect(figures.meals.meals.find((m) => m.meal === '午餐')).toEqual({ meal: '午餐', rated: 3, average: 11 / 3 });
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await exportMonth({ redis, tasks, config, roster }, '2026-03', out);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.concat(chunks) as never);
    const sheet = wb.getWorksheet('膳食反馈')!;
    const rows = Array.from({ length: sheet.rowCount - 2 }, (_, i) => sheet.getRow(i + 3).values as unknown[]);
    const lunch17 = rows.filter((r) => r[2] === '午餐' && (r[1] as Date).toISOString().startsWith(D));
    expect(lunch17.map((r) => [r[5], r[3]])).toEqual([
      ['王丽', 2],
      ['李娜', 5],
      ['孙艳', 4],
    ]);
    expect(lunch17[1][7]).toBe(`#${complaint}`);
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
    expect((await day('2026-03-12')).find((f) => f.task === id)!.answer).toEqual({
      by: 'qian_sf',
      at: at('14:00', '2026-03-12'),
      text: '明天换新米',
    });
    expect((await tasks.history(id)).at(-1)).toMatchObject({ type: 'answered', by: 'qian_sf', text: '明天换新米' });
    const manager = await say('chen_zr', `回复 #${id}：已和食堂沟通`, 'manager', at('14:10', '2026-03-12'));
    expect(dmText(manager, 'zhang_min')).toContain('已和食堂沟通');
    expect(replyText(await say('qian_sf', `答复 ${id}`, 'team_shitang', at('14:20', '2026-03-12')))).toContain(
      '请写上答复内容',
    );
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
