// One deployment on WeCom and DingTalk at once: a teacher reports on DingTalk, a worker claims on WeCom, and the
// teacher hears of it on DingTalk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { fastTimers, startService, testConfig, until, type RunningService } from '../helpers/service.js';
import { robotMessage, signedHeaders, startFakeDingtalk, type FakeDingtalk } from '../helpers/fake-dingtalk.js';
import { wecomWorld, type WecomWorld } from '../helpers/wecom-env.js';
import { appPost, appTextXml } from '../helpers/wecom-callbacks.js';
import { TaskStore } from '../../src/store/tasks.js';

const APP_SECRET = randomBytes(24).toString('base64');
let fake: FakeDingtalk;
let world: WecomWorld;
let svc: RunningService;
let redis: Redis;
let store: TaskStore;
const prefix = testPrefix('e2e-both');

beforeAll(async () => {
  fake = await startFakeDingtalk({ appKey: 'dingboth', appSecret: APP_SECRET, robotCode: 'dingboth' });
  world = await wecomWorld();
  redis = redisClient();
  store = new TaskStore(redis, prefix);
  svc = await startService({
    ...world.env,
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: testConfig((cfg) => fastTimers(cfg, { remind: 30, assign: 60, escalate: 90 })),
    DINGTALK_APP_KEY: 'dingboth',
    DINGTALK_APP_SECRET: APP_SECRET,
    DINGTALK_API_BASE: fake.url,
  });
});

afterAll(async () => {
  await svc?.stop();
  await fake?.close();
  await world?.fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('WeCom and DingTalk in one deployment', () => {
  it('a report on DingTalk is claimed on WeCom and the reporter is told on DingTalk', async () => {
    const session = fake.mintSessionWebhook();
    const body = robotMessage({
      staffId: '02110001',
      text: '报修 小一班 空调不制冷',
      conversationId: 'cidXiao1Teachers0Grp+a2Q==',
      robotCode: 'dingboth',
      session,
    });
    const res = await fetch(`${svc.url}/dingtalk/robot`, {
      method: 'POST',
      headers: signedHeaders(APP_SECRET),
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const key = new URL(session.url).searchParams.get('session');
    const ack = await fake.waitFor((r) => r.kind === 'session' && r.session === key);
    const id = Number(/#(\d+)/.exec(JSON.stringify(ack.body))![1]);
    // 李师傅 has written on neither platform yet: his claim card goes to the first one that reaches him (WeCom) only.
    await world.fake.waitFor(
      (r) => r.kind === 'message.send' && r.body.touser === 'LiShiFu' && r.body.msgtype === 'template_card',
    );

    const { query, body: xml } = appPost(
      world.app,
      appTextXml({
        corpId: world.app.corpId,
        agentId: world.app.agentId,
        from: 'LiShiFu',
        content: `接单 ${id}`,
        msgId: String(BigInt(Date.now()) * 1000n + 1n),
      }),
    );
    const claim = await fetch(`${svc.url}/wecom/app?${query}`, {
      method: 'POST',
      body: xml,
      headers: { 'content-type': 'text/xml' },
    });
    expect(claim.status).toBe(200);
    await until('claimed', async () => (await store.get(id))?.state === 'claimed');
    expect((await store.get(id))!.assignee).toBe('li_sf');
    await fake.waitFor(
      (r) =>
        r.kind === 'batchSend' && r.body.userIds.includes('02110001') && JSON.stringify(r.param).includes('李师傅'),
    );
    // 王丽 wrote on DingTalk: her DMs go there, not also to WeCom (she has ids on both).
    expect(world.fake.requests.filter((r) => r.kind === 'message.send' && r.body.touser === 'WangLi')).toEqual([]);
    expect(fake.requests.filter((r) => r.kind === 'batchSend' && r.body.userIds.includes('03110001'))).toEqual([]);
    expect(fake.violations()).toEqual([]);
    expect(world.fake.violations()).toEqual([]);
  });
});
