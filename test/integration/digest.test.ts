// The digest over real Redis: a school day played through TaskService / Dispatcher (so the running aggregates are
// written by the same Lua scripts as in production) plus checklist sheets and meal feedback stored as records.ts
// describes; then the 日报 has the right figures, 日报 in chat and `houqin digest` print the same, the scheduled
// jobs address the right people, and the weekly chart is a real PNG.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { loadSettings } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createParser } from '../../src/commands/parser.js';
import { Roster } from '../../src/domain/roster.js';
import { TaskService } from '../../src/domain/tasks/service.js';
import { Dispatcher } from '../../src/domain/tasks/dispatch.js';
import { digestsFor, type Digests } from '../../src/domain/digest/service.js';
import { recordKeys, type ChecklistSheet, type MealFeedback } from '../../src/domain/records.js';
import type { Outcome } from '../../src/domain/outcome.js';
import type { Envelope } from '../../src/channels/envelope.js';
import { TaskStore } from '../../src/store/tasks.js';
import { SideStore } from '../../src/store/side.js';
import { keys } from '../../src/store/keys.js';
import { RedisDigestSource, statsDayKey, targetsOf } from '../../src/store/stats.js';
import { createLogger } from '../../src/log.js';
import { digestCommand } from '../../src/cli/digest.js';
import digestJobs, { sendDigest } from '../../jobs/digest.js';
import { SchoolCalendar } from '../../src/scheduler/calendar.js';
import { runsOn } from '../../src/scheduler/scheduler.js';

const prefix = testPrefix('digest');
const DAY = '2026-11-18'; // a Wednesday
const at = (hm: string) => Date.parse(`${DAY}T${hm}:00+08:00`);
const NOW = at('17:30');
let redis: Redis;
let config: Config;
let roster: Roster;
let store: TaskStore;
let service: TaskService;
let dispatcher: Dispatcher;
let digests: Digests;
let n = 0;
const wecomId: Record<string, string> = {};
const ids: Record<string, number> = {};

function env(person: string, text: string): Envelope {
  const msgId = `d${++n}`;
  return {
    id: `wecom:aibot:${msgId}`,
    channel: 'wecom',
    surface: 'aibot',
    msgId,
    chat: { id: 'g', type: 'group' },
    sender: { platformId: wecomId[person] },
    text,
    receivedAt: Date.now(),
  };
}
const say = (person: string, text: string, hm: string) => service.handle(env(person, text), at(hm));
const replyText = (o: Outcome) =>
  o.messages
    .filter((m) => m.to.kind === 'reply')
    .map((m) => (m.message.type === 'text' ? m.message.text : ''))
    .join('\n');

beforeAll(async () => {
  config = loadSettings({}, 'config/example.yaml').config;
  for (const p of config.people) wecomId[p.id] = p.wecom!;
  redis = redisClient();
  roster = new Roster(config);
  store = new TaskStore(redis, prefix, { timezone: config.org.timezone, targets: targetsOf(config.sla) });
  digests = digestsFor(store, roster, null); // charts without text: fast; the chart test below uses the machine's font
  service = new TaskService(store, new SideStore(redis, keys(prefix)), roster, createParser(config), digests);
  dispatcher = new Dispatcher(store, roster);

  // 08:00 a leaking tap: claimed in 10 min, finished at 09:10, rated 5 at 09:30.
  ids.tap = (await say('wang_li', '报修 小一班 水龙头漏水', '08:00')).route!.task;
  await say('li_sf', `接单 ${ids.tap}`, '08:10');
  await say('li_sf', `完工 ${ids.tap} 换了阀芯`, '09:10');
  await say('wang_li', `评价 ${ids.tap} 5 很快`, '09:30');
  // 08:30 a broken chair: claimed after 60 min (late), finished, sent back, finished again, accepted.
  ids.chair = (await say('li_na', '报修 中二班 椅子腿断了', '08:30')).route!.task;
  await say('zheng_sf', `接单 ${ids.chair}`, '09:30');
  await say('zheng_sf', `完工 ${ids.chair}`, '10:00');
  await say('li_na', `没修好 ${ids.chair} 还是晃`, '10:30');
  await say('zheng_sf', `完工 ${ids.chair} 换了螺丝`, '11:00');
  await say('li_na', `验收 ${ids.chair}`, '11:30');
  // 09:00 a cleaning job nobody takes (overdue by the evening).
  ids.vomit = (await say('sun_yan', '保洁 午睡室 地上有呕吐物', '09:00')).route!.task;
  // 15:00 a lamp, given to the on-duty worker by the timer at 16:00 (a late claim).
  ids.lamp = (await say('zhang_min', '报修 大一班 灯管不亮', '15:00')).route!.task;
  await dispatcher.timer('assign', ids.lamp, undefined, at('16:00'));

  // The day's records, as the checklist and meal modules store them (domain/records.ts).
  const rk = recordKeys(prefix);
  const sheets: ChecklistSheet[] = [
    {
      id: 'safety',
      template: 'safety',
      title: '每日安全检查',
      responsible: 'chen_zr',
      chat: 'manager',
      date: DAY,
      postedAt: at('07:30'),
      status: 'done',
      doneAt: at('08:05'),
      items: [
        { key: 'doors', label: '门窗门锁', type: 'yesno', value: true, ok: true, by: 'chen_zr', at: at('08:05') },
        {
          key: 'fire',
          label: '消防器材与通道',
          type: 'yesno',
          value: false,
          ok: false,
          note: '灭火器压力不足',
          by: 'chen_zr',
          at: at('08:05'),
          task: 999,
        },
      ],
    },
    {
      id: 'disinfection.0',
      template: 'disinfection',
      title: '消毒记录（一洗二清三消毒）',
      area: '午睡室',
      responsible: 'he_ay',
      chat: 'team_baojie',
      date: DAY,
      postedAt: at('14:00'),
      status: 'done',
      doneAt: at('15:00'),
      items: [
        {
          key: 'chlorine',
          label: '含氯消毒液浓度',
          type: 'number',
          unit: 'mg/L',
          value: 300,
          ok: true,
          by: 'he_ay',
          at: at('15:00'),
        },
      ],
    },
    {
      id: 'morning_check.4',
      template: 'morning_check',
      title: '晨检',
      area: '大一班',
      responsible: 'zhao_jing',
      chat: 'staff',
      date: DAY,
      postedAt: at('08:00'),
      status: 'missed',
      items: [{ key: 'expected', label: '应到', type: 'number', unit: '人' }],
    },
  ];
  for (const s of sheets) await redis.hset(rk.checklistDay(DAY), s.id, JSON.stringify(s));
  const meals: MealFeedback[] = [
    { at: at('12:50'), person: 'wang_li', meal: '午餐', rating: 5, urgent: false },
    { at: at('12:51'), person: 'li_na', meal: '午餐', rating: 1, text: '米饭太硬', urgent: false },
    { at: at('12:52'), person: 'zhao_jing', meal: '午餐', rating: 3, text: '汤里有头发', urgent: true, task: 998 },
    { at: at('15:10'), person: 'liu_fang', meal: '午点', rating: 4, urgent: false },
  ];
  for (const m of meals) await redis.rpush(rk.mealDay(DAY), JSON.stringify(m));
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('digest over a seeded day', () => {
  it('the running aggregates hold the day', async () => {
    const h = await redis.hgetall(statsDayKey(prefix, DAY));
    expect(h).toMatchObject({
      'rep:repair': '3',
      'rep:cleaning': '1',
      'clm:repair': '3',
      'clmms:repair': String(130 * 60_000),
      'clmlate:repair': '2',
      'fin:repair': '2',
      'finms:repair': String(160 * 60_000),
      'acc:repair': '2',
      'rat:repair': '1',
      'rats:repair': '5',
      'rwk:repair': '1',
      'w:li_sf:fin': '1',
      'w:li_sf:rn': '1',
      'w:li_sf:rs': '5',
      'w:zheng_sf:fin': '1',
      'w:zheng_sf:rwk': '1',
    });
    expect(h['finlate:repair']).toBeUndefined();
    // The created index has every task with its report time.
    expect(await redis.zscore(store.createdKey, String(ids.lamp))).toBe(String(at('15:00')));
  });

  it('the daily digest has the right figures', async () => {
    const text = await digests.text('day', DAY, NOW);
    expect(text).toBe(`**阳光幼儿园 · 后勤日报**
11月18日（周三）

**工单**
报修　报 3 · 接 3 · 完 2 · 验 2 · 超时 0
保洁　报 1 · 接 0 · 完 0 · 验 0 · 超时 1
合计　报 4 · 接 3 · 完 2 · 验 2
接单　平均 43分钟 · 目标 30分钟 · 超时 2/3
完工　平均 1.3小时 · 目标 24小时 · 超时 0/2
在办　待接单 1 · 处理中 1 · 挂起 0 · 待验收 0 · 超时 1
最久未完成
> #${ids.vomit} 保洁【午睡室】地上有呕吐物 · 待接单 8.5小时 ⚠
> #${ids.lamp} 报修【大一班】灯管不亮 · 处理中 2.5小时

**检查**　完成 2/3 · 漏检 1 · 有异常 1
> 每日安全检查 · 消防器材与通道 异常 → #999
> 晨检·大一班 漏检（赵静）

**膳食**　午餐 3.0分（3） · 午点 4.0分（1） · 平均 3.3
> ⚠ 午餐 3分 汤里有头发（赵静） → #998
> 午餐 1分 米饭太硬（李娜）

**评价**　1 条 · 平均 5.0 分 · 默认好评 0 · 返工 1

**量化考核**
> 李师傅 完工 1 · 5.0 分（1）
> 郑师傅 完工 1 · 未评分 · 返工 1`);
  });

  it('日报 in chat gives the director the same digest as plain text; others are refused', async () => {
    const reply = replyText(await say('zhou_yz', '日报', '17:30'));
    expect(reply.split('\n')[0]).toBe('阳光幼儿园 · 后勤日报');
    expect(reply).toContain('接单　平均 43分钟 · 目标 30分钟 · 超时 2/3');
    expect(reply).toContain(`  #${ids.vomit} 保洁【午睡室】地上有呕吐物`);
    expect(reply).not.toContain('**');
    expect(replyText(await say('wang_li', '日报', '17:30'))).toContain('只发给园长和后勤主任');
    // 昨天的日报 the next morning is the same day's digest.
    const next = replyText(await service.handle(env('chen_zr', '昨天的日报'), Date.parse('2026-11-19T08:00:00+08:00')));
    expect(next).toContain('11月18日（周三）');
  });

  it('`houqin digest --date` prints the same text from the same code', async () => {
    const out = new PassThrough();
    let printed = '';
    out.on('data', (c: Buffer) => (printed += c.toString()));
    const code = await digestCommand(
      ['--date', DAY],
      { HOUQIN_KEY_PREFIX: prefix, REDIS_URL, HOUQIN_CONFIG: 'config/example.yaml' },
      out,
    );
    expect(code).toBe(0);
    // A past date's open work is as of that day's end, whenever it is printed: the same text as the service makes.
    expect(printed.trim()).toBe(await digests.text('day', DAY, Date.now()));
    expect(printed).toContain(`> #${ids.vomit} 保洁【午睡室】地上有呕吐物 · 待接单 15小时 ⚠`);
    const bad = await digestCommand(['--period', 'year'], {}, out, new PassThrough());
    expect(bad).toBe(2);
  });

  it('the weekly summary carries a real PNG chart; the jobs send it to the director and the manager', async () => {
    const withFont = digestsFor(store, roster); // this machine's CJK font, if it has one
    const week = await withFont.compose('week', DAY, NOW);
    expect(week.markdown).toContain('合计　报 4（+4）');
    const png = Buffer.from(week.image!.png, 'base64');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.subarray(12, 16).toString()).toBe('IHDR');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([900, 640]);
    expect(png.length).toBeGreaterThan(5000);
    expect(png.length).toBeLessThan(2 * 1024 * 1024); // also fits a group robot image

    const log = createLogger('silent');
    const weekly = await sendDigest({ tasks: store, roster, config, date: DAY, log }, 'week', NOW);
    const to = (o: Outcome) => o.messages.map((m) => `${m.to.kind === 'user' ? m.to.person : '?'}:${m.message.type}`);
    expect(to(weekly)).toEqual(['zhou_yz:markdown', 'zhou_yz:image', 'chen_zr:markdown', 'chen_zr:image']);
    const daily = await sendDigest({ tasks: store, roster, config, date: DAY, log }, 'day', NOW);
    expect(to(daily)).toEqual(['zhou_yz:markdown']);
  });

  it('weekly and monthly run on the last school day: a holiday Friday moves them earlier', () => {
    const jobs = digestJobs(config);
    const cal = new SchoolCalendar(config.calendar, config.org.timezone);
    const weekly = jobs.find((j) => j.name === 'digest.weekly')!;
    const monthly = jobs.find((j) => j.name === 'digest.monthly')!;
    expect(weekly.schedule).toBe('0 17 * * *');
    expect(['2026-11-19', '2026-11-20', '2026-11-21'].map((d) => runsOn(weekly, d, cal))).toEqual([false, true, false]);
    // 2026-10-01..07 is the National Day holiday: the last school day of that week is Wednesday 30 September.
    expect(runsOn(weekly, '2026-09-30', cal)).toBe(true);
    // Winter break from 2027-01-23 (config): January's summary goes out on Friday the 22nd.
    expect(['2027-01-21', '2027-01-22', '2027-01-29'].map((d) => runsOn(monthly, d, cal))).toEqual([
      false,
      true,
      false,
    ]);
    expect(runsOn(jobs.find((j) => j.name === 'digest.daily')!, '2026-11-21', cal)).toBe(false);
  });
});

describe('a digest for a past date', () => {
  // Two days of work through the service; the 日报 of the first, asked for on the third, shows its open work as it
  // was at midnight at the end of that day — not what is open now.
  const pfx = testPrefix('digest-past');
  const D1 = '2026-11-18';
  const D2 = '2026-11-19';
  const when = (date: string, hm: string) => Date.parse(`${date}T${hm}:00+08:00`);
  let past: TaskStore;
  let svc: TaskService;
  let m = 0;
  const t: Record<string, number> = {};
  const act = (person: string, text: string, date: string, hm: string) => {
    const msgId = `p${++m}`;
    return svc.handle(
      {
        id: `local:console:${msgId}`,
        channel: 'local',
        surface: 'console',
        msgId,
        chat: { id: 'staff', type: 'group' },
        sender: { platformId: person },
        text,
        receivedAt: Date.now(),
      },
      when(date, hm),
    );
  };
  const report = async (key: string, person: string, text: string, date: string, hm: string) => {
    t[key] = (await act(person, text, date, hm)).route!.task;
  };

  beforeAll(async () => {
    past = new TaskStore(redis, pfx, { timezone: config.org.timezone, targets: targetsOf(config.sla) });
    svc = new TaskService(
      past,
      new SideStore(redis, keys(pfx)),
      roster,
      createParser(config),
      digestsFor(past, roster, null),
    );
    // G: claimed the first morning and still being worked on now.
    await report('g', 'huang_ys', '报修 保健室 空调不制冷', D1, '07:30');
    await act('li_sf', `接单 ${t.g}`, D1, '07:40');
    // A: reported, claimed, finished and accepted the same day — not open at its end.
    await report('a', 'wang_li', '报修 小一班 水龙头漏水', D1, '08:00');
    await act('li_sf', `接单 ${t.a}`, D1, '08:10');
    await act('li_sf', `完工 ${t.a}`, D1, '09:00');
    await act('wang_li', `验收 ${t.a}`, D1, '09:30');
    // B: nobody took it until the next morning.
    await report('b', 'sun_yan', '保洁 午睡室 地上有呕吐物', D1, '09:00');
    await act('he_ay', `接单 ${t.b}`, D2, '08:00');
    await act('he_ay', `完工 ${t.b}`, D2, '08:30');
    // C: on hold overnight, resumed and finished the next day.
    await report('c', 'li_na', '报修 中二班 椅子腿断了', D1, '10:00');
    await act('zheng_sf', `接单 ${t.c}`, D1, '10:30');
    await act('zheng_sf', `挂起 ${t.c} 等配件`, D1, '11:00');
    await act('zheng_sf', `继续 ${t.c}`, D2, '09:00');
    await act('zheng_sf', `完工 ${t.c}`, D2, '10:00');
    // D: finished the first afternoon, accepted the next morning.
    await report('d', 'zhang_min', '报修 大一班 灯管不亮', D1, '15:00');
    await act('li_sf', `接单 ${t.d}`, D1, '15:10');
    await act('li_sf', `完工 ${t.d}`, D1, '16:00');
    await act('zhang_min', `验收 ${t.d}`, D2, '09:00');
    // E: waiting that evening, cancelled the next morning.
    await report('e', 'liu_fang', '报修 中二班 门锁坏了', D1, '16:00');
    await act('liu_fang', `撤销 ${t.e}`, D2, '08:00');
    // F: reported the second day — not part of the first day at all.
    await report('f', 'zhao_jing', '报修 大一班 窗户关不上', D2, '09:00');
  });

  afterAll(async () => {
    await dropPrefix(redis, pfx);
  });

  it('在办 and 最久未完成 are as of the end of that day, from the tasks’ histories', async () => {
    const later = when('2026-11-20', '10:00');
    const text = await digestsFor(past, roster, null).text('day', D1, later);
    const lines = text.split('\n');
    expect(lines).toContain('报修　报 5 · 接 4 · 完 2 · 验 1 · 超时 1');
    expect(lines).toContain('保洁　报 1 · 接 0 · 完 0 · 验 0 · 超时 1');
    expect(lines).toContain('在办　待接单 2 · 处理中 1 · 挂起 1 · 待验收 1 · 超时 2');
    const oldest = lines.slice(lines.indexOf('最久未完成') + 1, lines.indexOf('最久未完成') + 4);
    expect(oldest).toEqual([
      `> #${t.g} 报修【保健室】空调不制冷 · 处理中 16.5小时`,
      `> #${t.b} 保洁【午睡室】地上有呕吐物 · 待接单 15小时 ⚠`,
      `> #${t.c} 报修【中二班】椅子腿断了 · 挂起 14小时`,
    ]);
    // Asked for in chat the next day (昨天的日报), the same figures.
    const reply = (await act('zhou_yz', '昨天的日报', D2, '17:00')).messages
      .map((x) => (x.message.type === 'text' ? x.message.text : ''))
      .join('\n');
    expect(reply).toContain('在办　待接单 2 · 处理中 1 · 挂起 1 · 待验收 1 · 超时 2');
    expect(reply).toContain(`  #${t.b} 保洁【午睡室】地上有呕吐物 · 待接单 15小时 ⚠`);
  });

  it('today’s digest still shows the work open now', async () => {
    const text = await digestsFor(past, roster, null).text('day', D2, when(D2, '12:00'));
    // Now: F waiting, G in hand (past its 24-hour target), B and C finished and not yet accepted.
    expect(text).toContain('在办　待接单 1 · 处理中 1 · 挂起 0 · 待验收 2 · 超时 2');
    expect(text).toContain(`> #${t.g} 报修【保健室】空调不制冷 · 处理中 28.5小时 ⚠`);
    expect(text).toContain(`> #${t.f} 报修【大一班】窗户关不上 · 待接单 3小时 ⚠`);
  });

  it('a past date is read from whichever index is smaller, with the same answer', async () => {
    const source = new RedisDigestSource(redis, pfx, past);
    const end = when(D2, '00:00') - 1;
    const viaClosed = await source.openAt(end, 100);
    // Make the created index look larger than the closed one: the other path must find the same tasks.
    for (let i = 0; i < 10; i++) await redis.zadd(past.createdKey, 0, `-${i + 1}`);
    for (let i = 0; i < 20; i++) await redis.zadd(past.k.closed, end + 1, `-${100 + i}`);
    const viaCreated = await source.openAt(end, 100);
    expect(viaCreated.tasks.map((x) => [x.id, x.state])).toEqual(viaClosed.tasks.map((x) => [x.id, x.state]));
    expect(viaClosed.tasks.map((x) => [x.id, x.state])).toEqual([
      [t.g, 'claimed'],
      [t.b, 'open'],
      [t.c, 'on_hold'],
      [t.d, 'done'],
      [t.e, 'open'],
    ]);
    expect((await source.openAt(end, 2)).total).toBe(5);
  });
});
