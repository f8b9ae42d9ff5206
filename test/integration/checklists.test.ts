// Checklists on real Redis, through the same code the service runs: post → answer with a failure → task created
// and routed → reminder → missed; answers matched to the right sheet, commands left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';
import { testConfig } from '../helpers/service.js';
import { loadSettings } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createParser } from '../../src/commands/parser.js';
import { Roster } from '../../src/domain/roster.js';
import { TaskService } from '../../src/domain/tasks/service.js';
import { Dispatcher } from '../../src/domain/tasks/dispatch.js';
import { ChecklistAnswers } from '../../src/domain/checklists/answers.js';
import type { Outcome } from '../../src/domain/outcome.js';
import type { Card } from '../../src/domain/messages.js';
import type { ChecklistSheet } from '../../src/domain/records.js';
import { SchoolCalendar } from '../../src/scheduler/calendar.js';
import type { JobContext } from '../../src/scheduler/job.js';
import { TaskStore } from '../../src/store/tasks.js';
import { SideStore } from '../../src/store/side.js';
import { ChecklistStore } from '../../src/store/checklists.js';
import { keys } from '../../src/store/keys.js';
import { createLogger } from '../../src/log.js';
import { allJobs } from '../../jobs/index.js';
import type { Envelope } from '../../src/channels/envelope.js';

const prefix = testPrefix('cl');
const DATE = '2026-03-11'; // a Wednesday in term
const at = (hhmm: string) => Date.parse(`${DATE}T${hhmm}:00+08:00`);
let redis: Redis;
let config: Config;
let roster: Roster;
let calendar: SchoolCalendar;
let service: TaskService;
let dispatcher: Dispatcher;
let tasks: TaskStore;
let sheets: ChecklistStore;
let n = 0;

beforeAll(() => {
  const file = testConfig((cfg) => {
    // 何阿姨 gets a second area in the same chat, so an answer has to say which; the manager group has a WeCom id.
    cfg.checklists
      .find((c: { id: string }) => c.id === 'disinfection')
      .areas.push({ name: '盥洗室', responsible: 'he_ay', place: '小一班' });
    cfg.chats.find((c: { id: string }) => c.id === 'manager').wecom.chatId = 'wrManagerGroup';
  });
  config = loadSettings({}, file).config;
  redis = redisClient();
  tasks = new TaskStore(redis, prefix);
  roster = new Roster(config);
  calendar = new SchoolCalendar(config.calendar, config.org.timezone);
  const parser = createParser(config);
  service = new TaskService(tasks, new SideStore(redis, keys(prefix)), roster, parser);
  dispatcher = new Dispatcher(tasks, roster);
  sheets = new ChecklistStore(redis, prefix);
  service.use(new ChecklistAnswers({ store: sheets, service, roster, calendar, parser: createParser(config) }));
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

async function runJob(name: string, when: number, firing = `${name}@${when}`): Promise<Outcome> {
  const job = allJobs(config).find((j) => j.name === name)!;
  const ctx: JobContext = {
    config,
    roster,
    calendar,
    tasks,
    side: new SideStore(redis, keys(prefix)),
    service,
    redis,
    prefix,
    log: createLogger('silent'),
    at: when,
    date: calendar.dateOf(when),
    firing,
  };
  return (await job.run(ctx)) as Outcome;
}

function env(
  person: string,
  text: string,
  chat: string,
  channel: 'local' | 'wecom' = 'local',
  type: 'group' | 'single' = 'group',
): Envelope {
  const msgId = `m${++n}`;
  const platformId = channel === 'wecom' ? roster.person(person)!.wecom! : person;
  return {
    id: `${channel}:test:${msgId}`,
    channel,
    surface: channel === 'wecom' ? 'aibot' : 'console',
    msgId,
    chat: { id: chat, type },
    sender: { platformId },
    text,
    receivedAt: Date.now(),
  };
}

const say = (
  person: string,
  text: string,
  chat: string,
  now: number,
  channel?: 'local' | 'wecom',
  type?: 'group' | 'single',
) => service.handle(env(person, text, chat, channel, type), now);
const replyText = (o: Outcome) =>
  o.messages
    .filter((m) => m.to.kind === 'reply')
    .map((m) => ('text' in m.message ? m.message.text : ''))
    .join('\n');
const textTo = (o: Outcome, kind: 'chat' | 'user', who: string) =>
  o.messages
    .filter(
      (m) =>
        (m.to.kind === 'chat' && kind === 'chat' && m.to.chat === who) ||
        (m.to.kind === 'user' && kind === 'user' && m.to.person === who),
    )
    .map((m) => ('text' in m.message ? m.message.text : ''));
const sheet = async (id: string): Promise<ChecklistSheet> => (await sheets.get(DATE, id))!;
const taskNo = (o: Outcome) => Number(/#(\d+)/.exec(replyText(o))![1]);

describe('checklist posts', () => {
  it('posts one sheet per area to its chat, with items, ranges, the person and the due time — once per day', async () => {
    const first = await runJob('checklist.disinfection', at('14:00'));
    // Each sheet to its chat, and its card to the person responsible.
    expect(first.messages.map((m) => m.to)).toEqual([
      { kind: 'chat', chat: 'team_baojie' },
      { kind: 'user', person: 'he_ay' },
      { kind: 'chat', chat: 'team_baojie' },
      { kind: 'user', person: 'ma_ay' },
      { kind: 'chat', chat: 'team_shitang' },
      { kind: 'user', person: 'feng_sf' },
      { kind: 'chat', chat: 'team_baojie' },
      { kind: 'user', person: 'he_ay' },
    ]);
    const post = first.messages[0].message;
    expect(post).toMatchObject({ type: 'text', mention: ['he_ay'] });
    const text = 'text' in post ? post.text : '';
    expect(text).toContain('消毒记录（一洗二清三消毒）·午睡室');
    expect(text).toContain('3. 含氯消毒液浓度（250–500 mg/L）');
    expect(text).toContain('4. 浸泡时间（≥30 分钟）');
    expect(text).toContain('16:00前完成');
    expect(text).toContain('全部正常');
    const day = await sheets.day(DATE);
    expect(
      day.filter((s) => s.template === 'disinfection').map((s) => [s.id, s.area, s.responsible, s.chat, s.status]),
    ).toEqual([
      ['disinfection.0', '午睡室', 'he_ay', 'team_baojie', 'open'],
      ['disinfection.1', '玩具', 'ma_ay', 'team_baojie', 'open'],
      ['disinfection.2', '餐具', 'feng_sf', 'team_shitang', 'open'],
      ['disinfection.3', '盥洗室', 'he_ay', 'team_baojie', 'open'],
    ]);
    // "Run now" again the same day: nothing new. A retry of the first firing re-sends the same (deduped) jobs.
    expect((await runJob('checklist.disinfection', at('14:30'), 'manual-again')).messages).toEqual([]);
    expect((await runJob('checklist.disinfection', at('14:00'))).messages).toHaveLength(8);
    expect((await sheets.day(DATE)).filter((s) => s.template === 'disinfection')).toHaveLength(4);
  });
});

describe('checklist answers', () => {
  let fireTask: number;

  it('an answer with one failure is recorded, opens a repair routed like any report, and says what is missing', async () => {
    const post = await runJob('checklist.safety', at('07:30'));
    expect(textTo(post, 'chat', 'manager')[0]).toContain('1. 门窗门锁');
    const o = await say('chen_zr', '1 正常 2 正常 3 异常 灭火器压力不足', 'manager', at('07:50'));
    const reply = replyText(o);
    fireTask = taskNo(o);
    expect(reply).toContain('已记录【每日安全检查】');
    expect(reply).toContain(`3 消防器材与通道 异常：灭火器压力不足 → 已报修 #${fireTask}`);
    expect(reply).toContain('还差 3 项：4 大型玩具、5 燃气、6 饮水设备');
    expect(o.route).toEqual({ task: fireTask, kind: 'repair' });
    expect(await tasks.get(fireTask)).toMatchObject({
      kind: 'repair',
      trade: '消防',
      team: 'shuidian',
      reporter: 'chen_zr',
      state: 'open',
      checklist: 'safety:fire',
      text: '每日安全检查：消防器材与通道 异常：灭火器压力不足',
    });
    // The route step (the queue's dispatcher) announces it to the team like any report.
    const routed = await dispatcher.route(fireTask, at('07:50'));
    expect(textTo(routed, 'chat', 'team_shuidian')[0]).toContain(`#${fireTask}`);
    expect(routed.timers.map((t) => t.step)).toEqual(['remind', 'assign', 'escalate']);
    const s = await sheet('safety');
    expect(s.status).toBe('open');
    expect(s.items.slice(0, 3)).toEqual([
      { key: 'doors', label: '门窗门锁', type: 'yesno', value: true, ok: true, by: 'chen_zr', at: at('07:50') },
      { key: 'wiring', label: '电路插座', type: 'yesno', value: true, ok: true, by: 'chen_zr', at: at('07:50') },
      {
        key: 'fire',
        label: '消防器材与通道',
        type: 'yesno',
        value: false,
        ok: false,
        note: '灭火器压力不足',
        by: 'chen_zr',
        at: at('07:50'),
        task: fireTask,
      },
    ]);
    // The same message delivered again changes nothing and opens nothing new.
    const again = await service.handle(
      { ...env('chen_zr', '3 异常 灭火器压力不足', 'manager'), id: 'local:test:fixed' },
      at('07:51'),
    );
    const twice = await service.handle(
      { ...env('chen_zr', '3 异常 灭火器压力不足', 'manager'), id: 'local:test:fixed' },
      at('07:51'),
    );
    expect(taskNo(again)).toBe(fireTask);
    expect(taskNo(twice)).toBe(fireTask);
  });

  it('leaves commands and reports to the parser, and other people’s messages alone', async () => {
    const status = await say('chen_zr', `进度 ${fireTask}`, 'manager', at('07:55'));
    expect(replyText(status)).toContain('状态：待接单');
    const report = await say('chen_zr', '报修 小一班 灯管坏了', 'manager', at('07:56'));
    expect(report.route?.kind).toBe('repair');
    expect((await tasks.get(report.route!.task))!.place).toBe('小一班');
    const stranger = await say('wang_li', '4 正常', 'manager', at('07:57'));
    expect(replyText(stranger)).toContain('没看懂');
    expect((await sheet('safety')).items[3].value).toBeUndefined();
  });

  it('at the due time reminds the person and the chat; after the grace period the sheet is missed and the managers hear', async () => {
    const due = await runJob('checklist-due.safety', at('08:30'));
    expect(textTo(due, 'user', 'chen_zr')[0]).toContain('还差 3 项：4 大型玩具、5 燃气、6 饮水设备');
    expect(textTo(due, 'chat', 'manager')[0]).toContain('每日安全检查还没填完');
    expect((await sheet('safety')).reminded).toBe(true);
    const missed = await runJob('checklist-missed.safety', at('09:30'));
    expect((await sheet('safety')).status).toBe('missed');
    for (const m of roster.managers())
      expect(textTo(missed, 'user', m.id).join()).toContain('每日安全检查：陈主任，还差 3 项');
    // Late answers are still recorded (补填) but the day stays missed.
    const late = await say('chen_zr', '4 正常 5 正常 6 正常', 'manager', at('10:00'));
    expect(replyText(late)).toContain('补填');
    const s = await sheet('safety');
    expect(s).toMatchObject({ status: 'missed', doneAt: at('10:00') });
    expect(s.items.every((e) => e.value !== undefined)).toBe(true);
    // A sheet done in time is neither reminded nor missed.
    expect((await runJob('checklist-due.safety', at('08:30'), 'again')).messages).toEqual([]);
  });

  it('asks which sheet when someone has two in one chat; "全部正常" leaves the numbers missing and says which', async () => {
    const ask = await say('he_ay', '全部正常', 'team_baojie', at('14:10'));
    expect(replyText(ask)).toContain('你有 2 张检查表');
    expect((await sheet('disinfection.0')).items[0].value).toBeUndefined();
    const all = await say('he_ay', '午睡室 全部正常', 'team_baojie', at('14:11'));
    expect(replyText(all)).toContain('✅ 1 清洗、2 清水冲净 正常');
    expect(replyText(all)).toContain('还差 2 项：3 含氯消毒液浓度（mg/L）、4 浸泡时间（分钟）');
    const nums = await say('he_ay', '午睡室 3 600 4 30', 'team_baojie', at('14:20'));
    const id = taskNo(nums);
    expect(replyText(nums)).toContain(`❌ 3 含氯消毒液浓度 600 mg/L（应为 250–500 mg/L） → 已报保洁 #${id}`);
    expect(replyText(nums)).toContain('全部填完');
    expect(await tasks.get(id)).toMatchObject({
      kind: 'cleaning',
      place: '午睡室',
      owner: 'he_ay',
      checklist: 'disinfection.0:chlorine',
      text: '消毒记录（一洗二清三消毒）·午睡室：含氯消毒液浓度 600 mg/L（应为 250–500 mg/L）',
    });
    expect(await sheet('disinfection.0')).toMatchObject({ status: 'done', doneAt: at('14:20') });
    expect((await sheet('disinfection.3')).status).toBe('open');
  });

  it('two failures in one message open two tasks, both dispatched through the route queue', async () => {
    const o = await say('ma_ay', '1 正常 2 正常 3 600 4 20', 'team_baojie', at('14:30'));
    const ids = [...replyText(o).matchAll(/#(\d+)/g)].map((m) => Number(m[1]));
    expect(ids).toHaveLength(2);
    expect(o.routes).toEqual([
      { task: ids[0], kind: 'cleaning' },
      { task: ids[1], kind: 'cleaning' },
    ]);
    const second = await dispatcher.route(ids[1], at('14:30'));
    expect(second.timers.map((t) => t.step)).toEqual(['remind', 'assign', 'escalate']);
    expect(textTo(second, 'chat', 'team_baojie').join()).toContain(`#${ids[1]}`);
    expect(replyText(o)).toContain('4 浸泡时间 20 分钟（应为 ≥30 分钟）');
    expect((await sheet('disinfection.1')).items.map((e) => e.task)).toEqual([undefined, undefined, ids[0], ids[1]]);
  });

  it('takes answers in a DM and in a WeCom group the config does not map, not in a mapped group of another sheet', async () => {
    const dm = await say('feng_sf', '1 正常 2 正常 3 300 4 30', 'dm:feng_sf', at('14:40'), 'local', 'single');
    expect(replyText(dm)).toContain('全部填完');
    await runJob('checklist.canteen', at('10:00'));
    const elsewhere = await say('qian_sf', '全部正常', 'wrManagerGroup', at('10:05'), 'wecom');
    expect(replyText(elsewhere)).not.toContain('已记录');
    const unmapped = await say('qian_sf', '全部正常 4 5', 'wrSomeKitchenGroup', at('10:06'), 'wecom');
    expect(replyText(unmapped)).toContain('已记录【食堂卫生检查】');
    expect(await sheet('canteen')).toMatchObject({ status: 'done' });
  });

  it('晨检: numbers by label; a fever count above zero becomes the cleaning team’s 消毒 task for the class', async () => {
    await runJob('checklist.morning_check', at('08:00'));
    const o = await say('liu_fang', '应到30 实到29 体温异常1 已通知家长', 'class_zhong2', at('08:20'));
    const id = taskNo(o);
    expect(await tasks.get(id)).toMatchObject({
      kind: 'cleaning',
      trade: '消毒',
      place: '中二班',
      team: 'baojie',
      text: '晨检·中二班：体温异常人数 1 人（应为 0 人）：已通知家长',
    });
    expect((await sheet('morning_check.3')).items.map((e) => e.value)).toEqual([30, 29, 1]);
    // Someone with a sheet in another chat, in a group whose sheet is not theirs: left to the parser.
    const other = await say('wang_li', '1 30', 'class_zhong2', at('08:21'));
    expect(replyText(other)).not.toContain('已记录');
  });
});

describe('answering through the card', () => {
  const D = '2026-03-12'; // a Thursday: a day of its own
  const when = (hhmm: string) => Date.parse(`${D}T${hhmm}:00+08:00`);
  const sheetOf = async (id: string) => (await sheets.get(D, id))!;
  const cardOf = (o: Outcome, person: string): Card => {
    const m = o.messages.find((x) => x.to.kind === 'user' && x.to.person === person && x.message.type === 'card');
    return (m!.message as { card: Card }).card;
  };
  const click = (person: string, key: string, now: number, responseCode = `rc${++n}`) => {
    const msgId = `c${++n}`;
    return service.handle(
      {
        id: `local:click:${msgId}`,
        channel: 'local',
        surface: 'console',
        msgId,
        chat: { id: `dm:${person}`, type: 'single' },
        sender: { platformId: person },
        action: { key, responseCode },
        receivedAt: Date.now(),
      },
      now,
    );
  };
  let safetyCard: Card;

  it('comes with the post, to the person responsible: 全部正常 and 有异常，我来说明', async () => {
    const post = await runJob('checklist.safety', when('07:30'));
    safetyCard = cardOf(post, 'chen_zr');
    expect(safetyCard).toMatchObject({
      ref: `cl.${D}.safety`,
      title: '📋 每日安全检查',
      fields: [
        { label: '日期', value: '3月12日' },
        { label: '完成时间', value: '08:30前' },
        { label: '检查项', value: '6 项' },
      ],
      buttons: [
        { text: '全部正常', key: `cl:ok:${D}:safety`, style: 'primary' },
        { text: '有异常，我来说明', key: `cl:explain:${D}:safety` },
      ],
    });
    expect(safetyCard.description).toContain('3 消防器材与通道');
    // 晨检 is all numbers: "全部正常" would record nothing, so no card.
    const morning = await runJob('checklist.morning_check', when('08:00'));
    expect(morning.messages.some((m) => m.message.type === 'card')).toBe(false);
  });

  it('有异常，我来说明 says how to write it; someone else’s tap records nothing', async () => {
    const explain = await click('chen_zr', safetyCard.buttons[1].key, when('07:40'));
    expect(replyText(explain)).toContain('请直接回复有问题的项目编号和情况，例如“1 异常 说明情况”（1 是门窗门锁）');
    expect(explain.clickedCard).toBeUndefined();
    const other = await click('wang_li', safetyCard.buttons[0].key, when('07:41'));
    expect(replyText(other)).toBe('每日安全检查由陈主任填写。');
    expect((await sheetOf('safety')).items.every((e) => e.value === undefined)).toBe(true);
  });

  it('全部正常 records every item like the text, and the card shows it was recorded', async () => {
    const ok = await click('chen_zr', safetyCard.buttons[0].key, when('07:45'), 'rc-safety');
    expect(replyText(ok)).toContain('📝 已记录【每日安全检查】');
    expect(replyText(ok)).toContain('🎉 6 项全部填完');
    const s = await sheetOf('safety');
    expect(s).toMatchObject({ status: 'done', doneAt: when('07:45') });
    expect(s.items.map((e) => [e.value, e.ok, e.by, e.at])).toEqual(
      Array(6).fill([true, true, 'chen_zr', when('07:45')]),
    );
    expect(ok.clickedCard).toEqual({
      ref: `cl.${D}.safety`,
      title: '📋 每日安全检查',
      description: '已记录：正常 6 项，已全部填完',
      fields: [
        { label: '日期', value: '3月12日' },
        { label: '检查项', value: '6 项' },
      ],
      buttons: [{ text: '已记录', key: `noop:cl:ok:${D}:safety`, style: 'muted' }],
    });
    // On WeCom the clicked card is updated through its response code.
    expect(ok.messages.find((m) => m.to.kind === 'clicked_card')).toEqual({
      to: { kind: 'clicked_card', channel: 'local', person: 'chen_zr', responseCode: 'rc-safety' },
      message: { type: 'card', card: ok.clickedCard },
    });
  });

  it('a second tap changes nothing', async () => {
    const again = await click('chen_zr', safetyCard.buttons[0].key, when('08:10'));
    expect(replyText(again)).toBe('【每日安全检查】的是非项已经记录过了，不用再点。');
    expect(again.clickedCard?.description).toBe('已记录：正常 6 项，已全部填完');
    expect((await sheetOf('safety')).items.every((e) => e.at === when('07:45'))).toBe(true);
  });

  it('after a failure typed in chat, 全部正常 fills the rest and keeps the failure; numbers stay missing', async () => {
    const post = await runJob('checklist.canteen', when('10:00'));
    const card = cardOf(post, 'qian_sf');
    expect(card.description).toContain('数字项请直接回复');
    const failed = await say('qian_sf', '2 异常 留样不足', 'team_shitang', when('10:10'));
    const task = taskNo(failed);
    const ok = await click('qian_sf', card.buttons[0].key, when('10:20'));
    expect(ok.routes).toEqual([]);
    expect(replyText(ok)).toContain('✅ 1 生熟分开、3 从业人员晨检 正常');
    expect(replyText(ok)).toContain('还差 1 项：4 冷藏温度（℃）');
    expect(ok.clickedCard?.description).toBe('已记录：正常 2 项，异常 1 项，还差 1 项：4 冷藏温度（℃）');
    const s = await sheetOf('canteen');
    expect(s.items.map((e) => e.ok)).toEqual([true, false, true, undefined]);
    expect(s.items[1]).toMatchObject({ note: '留样不足', task });
    expect(s.status).toBe('open');
  });

  it('answered by typing, the card keeps its buttons while they still help, and shows the record once they do not', async () => {
    const post = await runJob('checklist.disinfection', when('14:00'));
    const card = cardOf(post, 'he_ay');
    const retired = (o: Outcome) => o.messages.filter((m) => m.to.kind === 'cards');
    // A failure typed first: 全部正常 would still fill the rest, so the card stays as it is.
    const first = await say('he_ay', '午睡室 2 异常 没冲干净', 'team_baojie', when('14:05'));
    expect(replyText(first)).toContain('已记录');
    expect(retired(first)).toEqual([]);
    const rest = await say('he_ay', '午睡室 1 正常', 'team_baojie', when('14:06'));
    expect(replyText(rest)).toContain('已记录');
    const [update] = retired(rest);
    expect(update.to).toEqual({ kind: 'cards', ref: card.ref });
    expect(update.message).toMatchObject({
      type: 'card',
      card: { ref: card.ref, buttons: [{ text: '已记录', style: 'muted' }] },
    });
    expect((update.message as { card: Card }).card.description).toContain('异常 1 项');
    // Later answers (the numbers) do not touch the card again.
    const numbers = await say('he_ay', '午睡室 3 500', 'team_baojie', when('14:07'));
    expect(replyText(numbers)).toContain('已记录');
    expect(retired(numbers)).toEqual([]);
  });
});
