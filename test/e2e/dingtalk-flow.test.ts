// DingTalk in HTTP mode end to end: the real service as a child process, a local server playing the DingTalk API,
// signed robot callbacks. A teacher's group @-message → reply through the sessionWebhook → team notice and workers'
// messages → a worker's 1:1 接单 → the reporter told → 完工 → 验收 → 评价; forged, stale and replayed callbacks. No
// card template here: cards arrive as markdown naming the words to type (dingtalk-cards.test.ts has the buttons).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { fastTimers, startService, testConfig, until, type RunningService } from '../helpers/service.js';
import {
  robotMessage,
  signedHeaders,
  startFakeDingtalk,
  type DingRecorded,
  type FakeDingtalk,
} from '../helpers/fake-dingtalk.js';
import { TaskStore } from '../../src/store/tasks.js';

const APP_KEY = 'dingtestappkey01';
const APP_SECRET = randomBytes(24).toString('base64');
const ROBOT = 'dingtestrobot01';
const GROUP = 'cidXiao1Teachers0Grp+a2Q==';
const TEAM = 'cidShuidianTeam0Repair+c4g==';
const STAFF = { wangLi: '02110001', liSf: '03110001', wuSf: '03110002' };

let fake: FakeDingtalk;
let svc: RunningService;
let redis: Redis;
let store: TaskStore;
const prefix = testPrefix('e2e-ding');

async function say(staffId: string, text: string, o: { group?: boolean; msgId?: string } = {}) {
  const session = fake.mintSessionWebhook();
  const group = o.group ?? true;
  const body = robotMessage({
    staffId,
    text,
    robotCode: ROBOT,
    conversationId: group ? GROUP : `cidSingle${staffId}==`,
    group,
    msgId: o.msgId,
    session,
  });
  const res = await fetch(`${svc.url}/dingtalk/robot`, {
    method: 'POST',
    headers: signedHeaders(APP_SECRET),
    body: JSON.stringify(body),
  });
  return { res, session, body };
}

/** The reply that went through this message's sessionWebhook. */
const sessionReply = (url: string) => {
  const key = new URL(url).searchParams.get('session');
  return fake.waitFor((r) => r.kind === 'session' && r.code === '' && r.session === key);
};
const textOf = (r: DingRecorded) => JSON.stringify(r.param ?? r.body);
const toStaff = (id: string) => (r: DingRecorded) =>
  r.kind === 'batchSend' && r.status === 200 && r.body.userIds.includes(id);

beforeAll(async () => {
  fake = await startFakeDingtalk({ appKey: APP_KEY, appSecret: APP_SECRET, robotCode: ROBOT });
  redis = redisClient();
  store = new TaskStore(redis, prefix);
  const config = testConfig((cfg) => fastTimers(cfg, { remind: 30, assign: 60, escalate: 90 }));
  svc = await startService({
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: config,
    DINGTALK_APP_KEY: APP_KEY,
    DINGTALK_APP_SECRET: APP_SECRET,
    DINGTALK_ROBOT_CODE: ROBOT,
    DINGTALK_MODE: 'http',
    DINGTALK_API_BASE: fake.url,
  });
});

afterAll(async () => {
  await svc?.stop();
  await fake?.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('DingTalk end to end (HTTP mode)', () => {
  it('says at start-up that the DingTalk robot is on, without buttons', async () => {
    const ready = svc.logs.find((l) => l.includes('houqin listening on port'))!;
    expect(JSON.parse(ready).channels).toContain('DingTalk robot');
    expect(JSON.parse(ready).channels).not.toContain('DingTalk cards');
    // No template, no route for card clicks.
    expect((await fetch(`${svc.url}/dingtalk/card`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('report → reply via sessionWebhook → team notice → 1:1 接单 → reporter told → 完工 → 验收 → 评价', async () => {
    const { res, session } = await say(STAFF.wangLi, '报修 小一班 空调不制冷');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{}');
    const ack = await sessionReply(session.url);
    const id = Number(/#(\d+)/.exec(textOf(ack))![1]);
    expect((await store.get(id))!).toMatchObject({
      kind: 'repair',
      place: '小一班',
      reporter: 'wang_li',
      team: 'shuidian',
      state: 'open',
    });

    const notice = await fake.waitFor(
      (r) => r.kind === 'groupSend' && r.body.openConversationId === TEAM && textOf(r).includes(`#${id}`),
    );
    expect(notice.status).toBe(200);
    // The claim cards go to the workers as markdown naming the command to type.
    const cards = await fake.waitForCount(
      (r) => r.kind === 'batchSend' && r.body.msgKey === 'sampleMarkdown' && r.param.text.includes(`接单 ${id}`),
      2,
    );
    expect(cards.map((c) => c.body.userIds[0]).sort()).toEqual([STAFF.liSf, STAFF.wuSf]);

    expect((await say(STAFF.liSf, `接单 ${id}`, { group: false })).res.status).toBe(200);
    await until('claimed', async () => (await store.get(id))!.state === 'claimed');
    expect((await store.get(id))!.assignee).toBe('li_sf');
    await fake.waitFor((r) => toStaff(STAFF.wangLi)(r) && textOf(r).includes('李师傅'));

    expect((await say(STAFF.liSf, `完工 ${id} 换了电容`, { group: false })).res.status).toBe(200);
    await until('done', async () => (await store.get(id))!.state === 'done');
    // The reporter's acceptance card, as markdown naming both answers.
    const accept = await fake.waitFor((r) => toStaff(STAFF.wangLi)(r) && r.body.msgKey === 'sampleMarkdown');
    expect(accept.param.text).toContain(`「验收 ${id}」 或 「没修好 ${id}」`);

    expect((await say(STAFF.wangLi, `验收 ${id}`)).res.status).toBe(200);
    await until('accepted', async () => (await store.get(id))!.state === 'accepted');
    const rated = await say(STAFF.wangLi, `评价 ${id} 5 修得很快`);
    expect(rated.res.status).toBe(200);
    await until('rated', async () => (await store.get(id))!.rating === 5);
    expect((await store.get(id))!).toMatchObject({ state: 'accepted', rating: 5, note: '换了电容' });
    // No card template: no card API call; every card went as markdown naming the words to type.
    expect(fake.requests.filter((r) => r.kind.startsWith('card'))).toEqual([]);
    expect(fake.violations()).toEqual([]);
    expect(fake.tokensIssued()).toBe(1);
  });

  it('refuses a bad sign and a stale timestamp, ignores a replayed msgId, and stores nothing', async () => {
    const seq = async () => Number((await redis.get(`${prefix}:task:seq`)) ?? 0);
    const start = await seq();
    const first = await say(STAFF.wangLi, '报修 小一班 门锁坏了');
    expect(first.res.status).toBe(200);
    await until('the report', async () => (await seq()) === start + 1);
    const before = await seq();
    await sessionReply(first.session.url);
    const replies = () => fake.requests.filter((r) => r.kind === 'session').length;
    const repliesBefore = replies();

    const body = JSON.stringify(
      robotMessage({ staffId: STAFF.wangLi, text: '报修 小一班 窗户关不上', conversationId: GROUP, robotCode: ROBOT }),
    );
    const forged = { ...signedHeaders(APP_SECRET), sign: signedHeaders('not the secret').sign };
    expect((await fetch(`${svc.url}/dingtalk/robot`, { method: 'POST', headers: forged, body })).status).toBe(401);
    const stale = signedHeaders(APP_SECRET, Date.now() - 3_600_000);
    expect((await fetch(`${svc.url}/dingtalk/robot`, { method: 'POST', headers: stale, body })).status).toBe(403);
    const noSign = { 'content-type': 'application/json' };
    expect((await fetch(`${svc.url}/dingtalk/robot`, { method: 'POST', headers: noSign, body })).status).toBe(401);
    // The first message again, freshly signed (DingTalk delivering it twice, or someone replaying it).
    const again = await fetch(`${svc.url}/dingtalk/robot`, {
      method: 'POST',
      headers: signedHeaders(APP_SECRET),
      body: JSON.stringify(first.body),
    });
    expect(again.status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(await seq()).toBe(before);
    expect(replies()).toBe(repliesBefore);
  });
});
