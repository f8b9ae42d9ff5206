// The task service on real Redis: roles, illegal steps, meals, timers — through the same code the queues run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';
import { loadSettings } from '../../src/config/load.js';
import { createParser } from '../../src/commands/parser.js';
import { Roster } from '../../src/domain/roster.js';
import { TaskService } from '../../src/domain/tasks/service.js';
import { Dispatcher } from '../../src/domain/tasks/dispatch.js';
import { TaskStore } from '../../src/store/tasks.js';
import { SideStore } from '../../src/store/side.js';
import { keys } from '../../src/store/keys.js';
import type { Envelope } from '../../src/channels/envelope.js';
import type { Outcome } from '../../src/domain/outcome.js';

const prefix = testPrefix('svc');
let redis: Redis;
let service: TaskService;
let dispatcher: Dispatcher;
let store: TaskStore;
let side: SideStore;
let n = 0;
const wecomId: Record<string, string> = {};

beforeAll(() => {
  const { config } = loadSettings({}, 'config/example.yaml');
  // The same report is made again on purpose in these tests; folding duplicates is tested in understanding.test.ts.
  config.sla.duplicateWindow = 0;
  for (const p of config.people) wecomId[p.id] = p.wecom!;
  redis = redisClient();
  store = new TaskStore(redis, prefix);
  side = new SideStore(redis, keys(prefix));
  const roster = new Roster(config);
  service = new TaskService(store, side, roster, createParser(config));
  dispatcher = new Dispatcher(store, roster);
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

function env(person: string, text: string, chat = 'group-1', action?: Envelope['action']): Envelope {
  const msgId = `m${++n}`;
  return {
    id: `wecom:aibot:${msgId}`,
    channel: 'wecom',
    surface: 'aibot',
    msgId,
    chat: { id: chat, type: 'group' },
    sender: { platformId: wecomId[person] ?? person },
    text,
    action,
    receivedAt: Date.now(),
  };
}

const say = (person: string, text: string, chat?: string) => service.handle(env(person, text, chat));
const replyText = (o: Outcome) =>
  o.messages
    .filter((m) => m.to.kind === 'reply')
    .map((m) => (m.message.type === 'text' ? m.message.text : ''))
    .join('\n');
const dmsTo = (o: Outcome, person: string) => o.messages.filter((m) => m.to.kind === 'user' && m.to.person === person);

async function report(text = '报修 小一班 水龙头漏水', who = 'wang_li'): Promise<number> {
  const o = await say(who, text);
  expect(o.route).toBeDefined();
  return o.route!.task;
}

describe('task service', () => {
  it('routes by trade, and a place owner wins over the trade rule', async () => {
    const water = (await store.get(await report('报修 小一班 水龙头漏水')))!;
    expect(water).toMatchObject({ team: 'shuidian', trade: '水', place: '小一班' });
    const wood = (await store.get(await report('报修 中二班 椅子腿断了')))!;
    expect(wood.team).toBe('mugong');
    const nap = (await store.get(await report('保洁 午睡室 有小朋友尿床了')))!;
    expect(nap).toMatchObject({ kind: 'cleaning', team: 'baojie', owner: 'he_ay' });
    const plan = await dispatcher.route(nap.id);
    expect(plan.messages.filter((m) => m.to.kind === 'user').map((m) => m.to.kind === 'user' && m.to.person)).toEqual([
      'he_ay',
    ]);
    expect(plan.timers.map((t) => t.step)).toEqual(['remind', 'assign', 'escalate']);
  });

  it('lets only team members claim, and explains refusals without changing anything', async () => {
    const id = await report();
    const teacher = await say('li_na', `接单 ${id}`);
    expect(replyText(teacher)).toContain('水电维修');
    expect((await store.get(id))!.state).toBe('open');
    const carpenter = await say('zheng_sf', `接单 ${id}`); // 木工 handles repairs too: any repair team may take it
    expect((await store.get(id))!.assignee).toBe('zheng_sf');
    expect(dmsTo(carpenter, 'wang_li')).toHaveLength(1);
    const late = await say('li_sf', `接单 ${id}`);
    expect(replyText(late)).toContain('郑师傅');
    const accept = await say('wang_li', `验收 ${id}`);
    expect(replyText(accept)).toContain('处理中');
    expect((await store.get(id))!.state).toBe('claimed');
  });

  it('a message handled again (its worker died after the step, before queuing what it says) says it all again', async () => {
    const id = await report();
    const claim = env('li_sf', `${id}号我来修`);
    const first = await service.handle(claim); // …and the worker dies: none of this was queued
    const again = await service.handle(claim); // taken over from the stream
    expect(replyText(again)).toContain('你已接单');
    expect(again.messages).toEqual(first.messages);
    expect(dmsTo(again, 'wang_li')).toHaveLength(1);
    const finish = env('li_sf', `完工 ${id} 换了阀芯`);
    const done = await service.handle(finish);
    expect(await service.handle(finish)).toEqual(done);
    expect((await store.get(id))!).toMatchObject({ state: 'done', doneCount: 1 });
    expect((await store.history(id)).filter((e) => e.type === 'done')).toHaveLength(1);
    // Another message with the same words is another step, refused as ever.
    expect(replyText(await say('li_sf', `完工 ${id} 换了阀芯`))).toContain('不能完工');
  });

  it('only the assignee or the manager finishes; only the reporter or the manager accepts', async () => {
    const id = await report();
    await say('li_sf', `接单 ${id}`);
    const stranger = await say('wu_sf', `完工 ${id}`);
    expect(replyText(stranger)).toContain('只有处理人李师傅或后勤主任');
    const done = await say('li_sf', `完工 ${id} 换了阀芯`);
    expect(done.timers).toEqual([expect.objectContaining({ step: 'autoaccept', task: id, expect: 1 })]);
    expect((await store.get(id))!).toMatchObject({ state: 'done', note: '换了阀芯', doneCount: 1 });
    const other = await say('li_na', `验收 ${id}`);
    expect(replyText(other)).toContain('只有报修人王丽或后勤主任');
    await say('chen_zr', `验收 ${id}`);
    expect((await store.get(id))!.state).toBe('accepted');
  });

  it('没修好 sends it back for rework and counts it; 评价 records the rating and warns the manager on a low one', async () => {
    const id = await report();
    await say('li_sf', `接单 ${id}`);
    await say('li_sf', `完工 ${id}`);
    const back = await say('wang_li', `没修好 ${id} 还在滴水`);
    expect(dmsTo(back, 'li_sf')).toHaveLength(1);
    expect((await store.get(id))!).toMatchObject({ state: 'claimed', rework: 1 });
    await say('li_sf', `完工 ${id} 换了整个龙头`);
    const rated = await say('wang_li', `评价 ${id} 2 太慢了`);
    expect(dmsTo(rated, 'chen_zr')).toHaveLength(1);
    expect((await store.get(id))!).toMatchObject({ state: 'accepted', rating: 2, ratingText: '太慢了', doneCount: 2 });
  });

  it('挂起 and 接单 again resume; 转单 hands over; 撤销 by the reporter', async () => {
    const id = await report();
    await say('li_sf', `接单 ${id}`);
    await say('li_sf', `挂起 ${id} 等配件`);
    expect((await store.get(id))!).toMatchObject({ state: 'on_hold', holdReason: '等配件' });
    await say('li_sf', `接单 ${id}`);
    expect((await store.get(id))!.state).toBe('claimed');
    const t = await say('li_sf', `转单 ${id} @吴师傅`);
    expect(t.messages.some((m) => m.to.kind === 'user' && m.to.person === 'wu_sf' && m.message.type === 'card')).toBe(
      true,
    );
    expect((await store.get(id))!).toMatchObject({ assignee: 'wu_sf', acked: false });
    await say('wu_sf', `接单 ${id}`);
    expect((await store.get(id))!.acked).toBe(true);
    await say('wang_li', `撤销 ${id}`);
    expect((await store.get(id))!.state).toBe('cancelled');
  });

  it('asks for a missing place once; the next message completes the report', async () => {
    const ask = await say('sun_yan', '报修 灯管闪个不停', 'chat-place');
    expect(ask.route).toBeUndefined();
    expect(replyText(ask)).toContain('在哪里');
    const done = await say('sun_yan', '大三班', 'chat-place');
    const t = (await store.get(done.route!.task))!;
    expect(t).toMatchObject({ place: '大三班', trade: '电' });
    const again = await say('sun_yan', '大三班', 'chat-place');
    expect(again.route).toBeUndefined();
  });

  it('meals: a good score is feedback, a low score or a food-safety word becomes a canteen task', async () => {
    const good = await say('li_na', '餐评 5 今天的包子很好吃');
    expect(good.route).toBeUndefined();
    const low = await say('li_na', '餐评 1 米饭太硬');
    expect((await store.get(low.route!.task))!).toMatchObject({
      kind: 'meal',
      team: 'shitang',
      urgent: false,
      mealRating: 1,
    });
    // A hair is a complaint for the canteen, a task but not urgent; raw chicken is urgent.
    const hair = await say('li_na', '餐评 4 汤里有头发');
    expect((await store.get(hair.route!.task))!).toMatchObject({ kind: 'meal', urgent: false });
    const unsafe = await say('li_na', '餐评 4 鸡肉没熟');
    expect((await store.get(unsafe.route!.task))!).toMatchObject({ kind: 'meal', urgent: true });
    expect((await side.mealFeedback()).length).toBeGreaterThanOrEqual(3);
  });

  it('timers: remind, assign to on-duty, escalate; a claimed task silences them; auto-accept after done', async () => {
    const id = await report();
    const remind = await dispatcher.timer('remind', id, undefined);
    expect(remind.messages.length).toBeGreaterThan(0);
    const assign = await dispatcher.timer('assign', id, undefined);
    const t = (await store.get(id))!;
    expect(t).toMatchObject({ state: 'claimed', assignedBy: 'system', acked: false });
    expect(dmsTo(assign, t.assignee!).length).toBeGreaterThan(0);
    const esc = await dispatcher.timer('escalate', id, undefined);
    expect(dmsTo(esc, 'chen_zr')).toHaveLength(1);

    const id2 = await report();
    await say('wu_sf', `接单 ${id2}`);
    for (const step of ['remind', 'assign', 'escalate'] as const)
      expect((await dispatcher.timer(step, id2, undefined)).messages).toEqual([]);
    await say('wu_sf', `完工 ${id2}`);
    expect((await dispatcher.timer('autoaccept', id2, 0)).messages).toEqual([]); // armed for an earlier 完工
    await dispatcher.timer('autoaccept', id2, 1);
    expect((await store.get(id2))!).toMatchObject({ state: 'accepted', rating: 5, ratingText: '默认好评' });
  });

  it('催办 reaches the assignee once per ten minutes; 进度 and 我的 answer', async () => {
    const id = await report();
    await say('li_sf', `接单 ${id}`);
    const nudge = await say('wang_li', `催办 ${id}`);
    expect(dmsTo(nudge, 'li_sf')).toHaveLength(1);
    const again = await say('wang_li', `催办 ${id}`);
    expect(dmsTo(again, 'li_sf')).toHaveLength(0);
    expect(replyText(await say('wang_li', `进度 ${id}`))).toContain('处理中');
    expect(replyText(await say('li_sf', '我的'))).toContain(`#${id}`);
  });

  it('someone not on the roster is told so; a card click on a stale button changes nothing', async () => {
    expect(replyText(await say('stranger', '报修 小一班 灯坏了'))).toContain('名册');
    const id = await report();
    const click = await service.handle(env('he_ay', '', 'app:x', { key: `claim:${id}` }));
    expect(replyText(click)).toContain('水电维修');
    expect((await store.get(id))!.state).toBe('open');
  });

  it('日报 is for the director and the manager', async () => {
    expect(replyText(await say('zhou_yz', '日报'))).toContain('待接单');
    expect(replyText(await say('wang_li', '日报'))).toContain('只发给园长和后勤主任');
  });
});
