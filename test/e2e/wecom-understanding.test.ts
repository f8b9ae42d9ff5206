// What people really send, end to end over WeCom (issue 11): the same problem reported by two teachers makes one
// task and both hear of it; a reply quoting the bot's 「#N 已完工，请验收」 with 好了 accepts the work; a transcribed
// voice message says what was heard. The real service as a child process; a local server plays WeCom.
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskStore } from '../../src/store/tasks.js';
import type { Recorded } from '../helpers/fake-wecom.js';
import { dropPrefix, REDIS_URL, redisClient, testPrefix } from '../helpers/redis.js';
import { type RunningService, startService, testConfig, until } from '../helpers/service.js';
import { aibotPost, aibotText, appPost, appTextXml } from '../helpers/wecom-callbacks.js';
import { type WecomWorld, wecomWorld } from '../helpers/wecom-env.js';

let world: WecomWorld;
let svc: RunningService;
let redis: Redis;
let store: TaskStore;
const prefix = testPrefix('e2e-understand');
let seq = 0;
const msgid = () => `msg-${Date.now()}-${++seq}-${randomBytes(3).toString('hex')}`;

async function aibot(userid: string, payload: Record<string, unknown>) {
  const responseUrl = world.fake.mintResponseUrl({ chattype: 'group' });
  const body = {
    ...aibotText({ msgid: msgid(), userid, content: '', chatid: 'wrGroupXiao1', responseUrl }),
    ...payload,
  };
  const p = aibotPost(world.aibot, body);
  const res = await fetch(`${svc.url}/wecom/aibot?${p.query}`, {
    method: 'POST',
    body: p.body,
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status).toBe(200);
  return responseUrl;
}
const say = (userid: string, content: string) => aibot(userid, { text: { content: `@后勤助手 ${content}` } });

async function appSay(from: string, content: string) {
  const msgId = String(BigInt(Date.now()) * 1000n + BigInt(++seq));
  const { query, body } = appPost(
    world.app,
    appTextXml({ corpId: world.app.corpId, agentId: world.app.agentId, from, content, msgId }),
  );
  const res = await fetch(`${svc.url}/wecom/app?${query}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'text/xml' },
  });
  expect(res.status).toBe(200);
}

const replyTo = (url: string) => (r: Recorded) =>
  r.kind === 'response_url' && url.endsWith(r.path + '?' + new URLSearchParams(r.query).toString());
const reply = async (url: string) => JSON.stringify((await world.fake.waitFor(replyTo(url))).body);
const dmTo = (user: string, needle: string) =>
  world.fake.waitFor(
    (r) => r.kind === 'message.send' && r.body.touser === user && JSON.stringify(r.body).includes(needle),
  );

beforeAll(async () => {
  world = await wecomWorld();
  redis = redisClient();
  store = new TaskStore(redis, prefix);
  svc = await startService({
    ...world.env,
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: testConfig((cfg) => {
      for (const t of cfg.teams) delete t.onDuty;
      cfg.jobs = { menu: { enabled: false } };
    }),
  });
});

afterAll(async () => {
  await svc?.stop();
  await world?.fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('WeCom: what people really send', () => {
  it('one task for the same problem reported twice; both reporters hear it was claimed', async () => {
    const first = await reply(await say('WangLi', '小一班热水器不出热水了'));
    const id = Number(/#(\d+)/.exec(first)![1]);
    expect((await store.get(id))!).toMatchObject({ trade: '家电', place: '小一班', reporter: 'wang_li' });
    const second = await reply(await say('LiNa', '小一班的热水器坏了 没热水'));
    expect(second).toContain(`#${id} 已在处理`);
    expect(second).toContain('已为你加关注');
    expect(await store.followers(id)).toEqual(['li_na']);

    await appSay('LiShiFu', `${id}号我来修`);
    await dmTo('WangLi', `你报的 #${id} 已由李师傅接单`);
    await dmTo('LiNa', `你关注的 #${id} 已由李师傅接单`);
    expect((await store.get(id))!.state).toBe('claimed');
  });

  it('a reply quoting 「#N 已完工，请验收」 with 好了 accepts the work', async () => {
    const first = await reply(await say('WangLi', '小一班窗户关不上'));
    const id = Number(/#(\d+)/.exec(first)![1]);
    await appSay('ZhengShiFu', `接单 ${id}`);
    await appSay('ZhengShiFu', `完工 ${id} 换了合页`);
    await until('done', async () => ((await store.get(id))!.state === 'done' ? true : undefined));
    const url = await aibot('WangLi', {
      text: { content: '@后勤助手 好了' },
      quote: { msgtype: 'text', text: { content: `#${id} 已完工，请验收` } },
    });
    expect(await reply(url)).toContain(`#${id} 已验收`);
    expect((await store.get(id))!.state).toBe('accepted');
  });

  it('says what it heard from a voice message', async () => {
    const url = await aibot('WangLi', { msgtype: 'voice', voice: { content: '小一班门锁坏了' }, chattype: 'single' });
    expect(await reply(url)).toContain('语音已转文字：「小一班门锁坏了」');
  });
});
