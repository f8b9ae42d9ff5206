// DingTalk cards with buttons end to end: the real service as a child process, the fake DingTalk playing the card
// platform (fake-dingtalk-cards.ts) with the shipped template "imported".
// HTTP mode: the callback address registered at start → a teacher's report in a group → team notice and a claim card
// in each worker's 1:1 chat → 李师傅 taps 接单 (signed click to /dingtalk/card) → his card says 你已接单 at once, 吴师傅's
// is updated to 李师傅已接单 → 完工 → the reporter's card → 验收通过 (a second delivery of that click changes nothing)
// → 评价; forged and stale clicks refused; a checklist answered by its card (有异常 → how to write it, 全部正常 →
// recorded, card shows 已记录). Stream mode: the same claim and update with the click over the Stream connection.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChecklistStore } from '../../src/store/checklists.js';
import { TaskStore } from '../../src/store/tasks.js';
import {
  type DingRecorded,
  type FakeDingtalk,
  robotMessage,
  signedHeaders,
  startFakeDingtalk,
} from '../helpers/fake-dingtalk.js';
import type { FakeCard } from '../helpers/fake-dingtalk-cards.js';
import { type FakeStreamGateway, fakeStreamGateway } from '../helpers/fake-dingtalk-stream.js';
import { dropPrefix, REDIS_URL, redisClient, testPrefix } from '../helpers/redis.js';
import { fastTimers, type RunningService, startService, testConfig, until } from '../helpers/service.js';

const TEMPLATE = '8f0d2c4e-1b3a-4e5f-9a7b-6c5d4e3f2a1b.schema';
const GROUP = 'cidXiao1Teachers0Grp+a2Q==';
const TEAM = 'cidShuidianTeam0Repair+c4g==';
const STAFF = { wangLi: '02110001', chenZr: '01123457', liSf: '03110001', wuSf: '03110002' };
const PUBLIC = 'https://houqin.example.edu/dingtalk/card';

let redis: Redis;
beforeAll(() => {
  redis = redisClient();
});
afterAll(() => redis.disconnect());

const textOf = (r: DingRecorded) => JSON.stringify(r.param ?? r.body);
const toStaff = (id: string) => (r: DingRecorded) =>
  r.kind === 'batchSend' && r.status === 200 && r.body.userIds.includes(id);
/** The card of a ref-like key (claim:12) delivered to a person, once it is there. */
const cardFor = (fake: FakeDingtalk, staffId: string, key: string) =>
  until(`a card with ${key} for ${staffId}`, () =>
    fake.cards.in('IM_ROBOT', staffId).find((c) => Object.values(c.public).includes(key)),
  );
const seen = (fake: FakeDingtalk, card: FakeCard, staffId: string) => fake.cards.view(card, staffId);

/** The day's jobs run when the test says so (the console's jobs API), not when the clock does. */
function config(): string {
  return testConfig((cfg) => {
    fastTimers(cfg, { remind: 60, assign: 120, escalate: 180 });
    const names = [
      ...cfg.checklists.flatMap((c: { id: string }) => [
        `checklist.${c.id}`,
        `checklist-due.${c.id}`,
        `checklist-missed.${c.id}`,
      ]),
      ...cfg.meals.rounds.map((r: { meal: string }) => `meal.${r.meal}`),
      'menu',
    ];
    cfg.jobs = Object.fromEntries(names.map((n) => [n, { enabled: false }]));
  });
}

describe('DingTalk cards end to end (HTTP mode)', () => {
  const APP_KEY = 'dingcardshttpkey';
  const APP_SECRET = randomBytes(24).toString('base64');
  const prefix = testPrefix('e2e-dt-cards');
  let fake: FakeDingtalk;
  let svc: RunningService;
  let store: TaskStore;

  async function say(staffId: string, text: string, group = true) {
    const session = fake.mintSessionWebhook();
    const body = robotMessage({
      staffId,
      text,
      robotCode: APP_KEY,
      conversationId: group ? GROUP : `cidSingle${staffId}==`,
      group,
      session,
    });
    const res = await fetch(`${svc.url}/dingtalk/robot`, {
      method: 'POST',
      headers: signedHeaders(APP_SECRET),
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return new URL(session.url).searchParams.get('session')!;
  }
  const click = (card: FakeCard, staffId: string, slot: number, o: Record<string, unknown> = {}) =>
    fake.cards.clickOverHttp(card.outTrackId, staffId, slot, { url: `${svc.url}/dingtalk/card`, ...o });

  beforeAll(async () => {
    fake = await startFakeDingtalk({
      appKey: APP_KEY,
      appSecret: APP_SECRET,
      robotCode: APP_KEY,
      cardTemplateId: TEMPLATE,
    });
    store = new TaskStore(redis, prefix);
    svc = await startService({
      REDIS_URL,
      HOUQIN_KEY_PREFIX: prefix,
      HOUQIN_CONFIG: config(),
      DINGTALK_APP_KEY: APP_KEY,
      DINGTALK_APP_SECRET: APP_SECRET,
      DINGTALK_MODE: 'http',
      DINGTALK_API_BASE: fake.url,
      DINGTALK_CARD_TEMPLATE_ID: TEMPLATE,
      DINGTALK_CARD_CALLBACK_URL: PUBLIC,
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await fake?.close();
    await dropPrefix(redis, prefix);
  });

  it('registers the click address with DingTalk at start, and says so', async () => {
    const reg = await fake.waitFor((r) => r.kind === 'cardRegister');
    expect(reg.status).toBe(200);
    expect(reg.body).toMatchObject({ callbackRouteKey: 'houqin', callbackUrl: PUBLIC, forceUpdate: true });
    expect(reg.body.apiSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(svc.logs)).not.toContain(reg.body.apiSecret);
    const ready = JSON.parse(svc.logs.find((l) => l.includes('houqin listening on port'))!);
    expect(ready.channels).toEqual(expect.arrayContaining(['DingTalk robot', 'DingTalk cards']));
  });

  it('report → worker cards → 接单 tapped → the other card updated → 完工 → 验收通过 tapped → 评价', async () => {
    const session = await say(STAFF.wangLi, '报修 小一班 空调不制冷');
    const ack = await fake.waitFor((r) => r.kind === 'session' && r.code === '' && r.session === session);
    const id = Number(/#(\d+)/.exec(textOf(ack))![1]);
    await fake.waitFor(
      (r) => r.kind === 'groupSend' && r.body.openConversationId === TEAM && textOf(r).includes(`#${id}`),
    );
    const li = await cardFor(fake, STAFF.liSf, `claim:${id}`);
    const wu = await cardFor(fake, STAFF.wuSf, `claim:${id}`);
    expect(li).toMatchObject({ callbackType: 'HTTP', routeKey: 'houqin', templateId: TEMPLATE });
    expect(seen(fake, wu, STAFF.wuSf)).toMatchObject({ title: `新报修 #${id}`, btn1_text: '接单', btn1_show: 'true' });
    expect(seen(fake, wu, STAFF.wuSf).content).toContain('**地点**：小一班');

    // 李师傅 taps 接单: his card changes in the answer itself.
    const tapped = await click(li, STAFF.liSf, 1);
    expect(tapped.status).toBe(200);
    expect(tapped.answer.cardData.cardParamMap).toMatchObject({ status: '你已接单', btn1_show: 'false' });
    expect(seen(fake, li, STAFF.liSf)).toMatchObject({ status: '你已接单', btn1_show: 'false' });
    expect((await store.get(id))!).toMatchObject({ state: 'claimed', assignee: 'li_sf' });
    // Everyone else's card follows through the outbox; 李师傅's own is left as the answer set it.
    await until('吴师傅’s card updated', () => seen(fake, wu, STAFF.wuSf).status === '李师傅已接单');
    expect(seen(fake, wu, STAFF.wuSf).btn1_show).toBe('false');
    expect(fake.requests.some((r) => r.kind === 'cardUpdate' && r.body.outTrackId === li.outTrackId)).toBe(false);
    await fake.waitFor((r) => toStaff(STAFF.liSf)(r) && textOf(r).includes(`你已接单`));
    await fake.waitFor((r) => toStaff(STAFF.wangLi)(r) && textOf(r).includes('李师傅'));

    await say(STAFF.liSf, `完工 ${id} 换了电容`, false);
    const acceptCard = await cardFor(fake, STAFF.wangLi, `accept:${id}`);
    expect(seen(fake, acceptCard, STAFF.wangLi)).toMatchObject({
      btn1_text: '验收通过',
      btn2_text: '没修好',
      btn2_key: `reopen:${id}`,
    });
    // The same tap delivered twice (a retry): handled once, the second answered with the card as it is.
    const payload = fake.cards.clickPayload(acceptCard.outTrackId, STAFF.wangLi, 1);
    const accepted = await click(acceptCard, STAFF.wangLi, 1, { payload });
    expect(accepted.answer.cardData.cardParamMap).toMatchObject({ title: `#${id} 已验收`, status: '已验收' });
    expect((await store.get(id))!.state).toBe('accepted');
    const again = await click(acceptCard, STAFF.wangLi, 1, { payload });
    expect(again.status).toBe(200);
    expect(again.answer.cardData.cardParamMap.status).toBe('已验收');
    expect((await store.history(id)).filter((e) => e.type === 'accepted')).toHaveLength(1);

    await say(STAFF.wangLi, `评价 ${id} 5 修得很快`);
    await until('rated', async () => (await store.get(id))!.rating === 5);
    expect(fake.violations()).toEqual([]);
  });

  it('refuses a click signed with another secret or the robot’s formula (401), a stale one (403); nothing changes', async () => {
    const before = Number(await redis.get(`${prefix}:task:seq`));
    await say(STAFF.wangLi, '报修 小二班 插座没电');
    const seq = await until('the new task', async () => {
      const n = Number(await redis.get(`${prefix}:task:seq`));
      return n > before ? n : undefined;
    });
    const wu = await cardFor(fake, STAFF.wuSf, `claim:${seq}`);
    expect((await click(wu, STAFF.wuSf, 1, { secret: 'not the secret' })).status).toBe(401);
    const robotStyle = await fetch(`${svc.url}/dingtalk/card`, {
      method: 'POST',
      headers: signedHeaders(APP_SECRET),
      body: JSON.stringify(fake.cards.clickPayload(wu.outTrackId, STAFF.wuSf, 1)),
    });
    expect(robotStyle.status).toBe(401);
    expect((await click(wu, STAFF.wuSf, 1, { timestamp: Date.now() - 3_600_000 })).status).toBe(403);
    await new Promise((r) => setTimeout(r, 300));
    expect((await store.get(seq))!.state).toBe('open');
    expect(seen(fake, wu, STAFF.wuSf).btn1_show).toBe('true');
    expect(svc.logs.join('\n')).toContain('dingtalk callback refused');
  });

  it('a checklist answered by its card: 有异常 says how to write it, 全部正常 records the sheet and retires the card', async () => {
    const run = await fetch(`${svc.url}/console/api/jobs/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'checklist.safety' }),
    });
    expect(run.status).toBe(200);
    const card = await until('the checklist card', () =>
      fake.cards.in('IM_ROBOT', STAFF.chenZr).find((c) => c.public.btn1_text === '全部正常'),
    );
    expect(seen(fake, card, STAFF.chenZr)).toMatchObject({ btn2_text: '有异常，我来说明', btn2_show: 'true' });

    const explain = await click(card, STAFF.chenZr, 2);
    expect(explain.status).toBe(200);
    await fake.waitFor((r) => toStaff(STAFF.chenZr)(r) && textOf(r).includes('请直接回复有问题的项目编号'));
    expect(seen(fake, card, STAFF.chenZr).btn1_show).toBe('true'); // nothing recorded yet: the card stays

    const ok = await click(card, STAFF.chenZr, 1);
    expect(ok.answer.cardData.cardParamMap).toMatchObject({ status: '已记录', btn1_show: 'false', btn2_show: 'false' });
    expect(ok.answer.cardData.cardParamMap.content).toContain('已记录：正常 6 项');
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    const sheet = (await new ChecklistStore(redis, prefix).get(today, 'safety'))!;
    expect(sheet.items.every((e) => e.ok === true && e.by === 'chen_zr')).toBe(true);
    expect(fake.violations()).toEqual([]);
  });
});

describe('DingTalk cards end to end (Stream mode)', () => {
  const APP_KEY = 'dingcardsstreamkey';
  const APP_SECRET = randomBytes(24).toString('base64');
  const prefix = testPrefix('e2e-dt-cards-st');
  let gw: FakeStreamGateway;
  let fake: FakeDingtalk;
  let svc: RunningService;

  beforeAll(async () => {
    gw = fakeStreamGateway({ clientId: APP_KEY, clientSecret: APP_SECRET, redeliverAfterMs: 60_000 });
    fake = await startFakeDingtalk({
      appKey: APP_KEY,
      appSecret: APP_SECRET,
      robotCode: APP_KEY,
      cardTemplateId: TEMPLATE,
      mounted: gw,
    });
    svc = await startService({
      REDIS_URL,
      HOUQIN_KEY_PREFIX: prefix,
      HOUQIN_CONFIG: config(),
      DINGTALK_APP_KEY: APP_KEY,
      DINGTALK_APP_SECRET: APP_SECRET,
      DINGTALK_MODE: 'stream',
      DINGTALK_API_BASE: fake.url,
      DINGTALK_CARD_TEMPLATE_ID: TEMPLATE,
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await gw?.close();
    await fake?.close();
    await dropPrefix(redis, prefix);
  });

  it('subscribes the card topic; 接单 tapped over the stream → ACK with the new card → the other card updated', async () => {
    expect(gw.handshakes.at(-1)!.body.subscriptions).toEqual([
      { type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' },
      { type: 'CALLBACK', topic: '/v1.0/card/instances/callback' },
    ]);
    const session = fake.mintSessionWebhook();
    gw.push(
      robotMessage({
        staffId: STAFF.wangLi,
        text: '报修 小一班 空调不制冷',
        conversationId: GROUP,
        robotCode: APP_KEY,
        session,
      }),
    );
    const key = new URL(session.url).searchParams.get('session');
    const reply = await fake.waitFor((r) => r.kind === 'session' && r.code === '' && r.session === key);
    const id = Number(/#(\d+)/.exec(textOf(reply))![1]);
    const li = await cardFor(fake, STAFF.liSf, `claim:${id}`);
    const wu = await cardFor(fake, STAFF.wuSf, `claim:${id}`);
    expect(li.callbackType).toBe('STREAM');
    expect(fake.requests.some((r) => r.kind === 'cardRegister')).toBe(false); // no address to register

    const payload = fake.cards.clickPayload(li.outTrackId, STAFF.liSf, 1);
    const tapped = await fake.cards.clickOverStream(gw, li.outTrackId, STAFF.liSf, 1);
    expect(tapped.status).toBe(200);
    expect(tapped.answer.cardData.cardParamMap).toMatchObject({ status: '你已接单', btn1_show: 'false' });
    await until('吴师傅’s card updated', () => seen(fake, wu, STAFF.wuSf).status === '李师傅已接单');
    expect(seen(fake, li, STAFF.liSf).status).toBe('你已接单');
    const store = new TaskStore(redis, prefix);
    expect((await store.get(id))!).toMatchObject({ state: 'claimed', assignee: 'li_sf' });

    // DingTalk delivering the same tap again (to this connection or another): ACKed with the card as it is.
    const again = gw.push(payload, { topic: '/v1.0/card/instances/callback' });
    await gw.until('the second delivery ACKed', () => gw.acked(again));
    const ack = gw.acks.find((a) => a.push === again)!;
    expect(ack.code).toBe(200);
    expect(JSON.parse(ack.frame.data).response.cardData.cardParamMap.status).toBe('你已接单');
    expect((await store.history(id)).filter((e) => e.type === 'claimed')).toHaveLength(1);
    expect(gw.violations).toEqual([]);
    expect(fake.violations()).toEqual([]);
  });
});
