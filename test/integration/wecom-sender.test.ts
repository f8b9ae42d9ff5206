// The WeCom sending side against the local WeCom stand-in and real Redis: token sharing and refresh, the group
// robot's 20 messages/minute, throttling answers, card updates with one-use codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';
import { startFakeWecom, type FakeWecom } from '../helpers/fake-wecom.js';
import { loadSettings } from '../../src/config/load.js';
import { Roster } from '../../src/domain/roster.js';
import { WecomChannel } from '../../src/channels/wecom/sender.js';
import { RetryLater } from '../../src/channels/channel.js';
import { PlatformError } from '../../src/errors.js';
import { keys } from '../../src/store/keys.js';
import { RateLimiter } from '../../src/store/rate.js';
import { createLogger } from '../../src/log.js';
import type { Outgoing } from '../../src/domain/messages.js';

const prefix = testPrefix('sender');
const log = createLogger('silent');
let redis: Redis;
let fake: FakeWecom;
let roster: Roster;
let n = 0;

function channel(): WecomChannel {
  const wecom = {
    apiBase: fake.url,
    corpId: 'wwcorp',
    app: { token: 't', aesKey: 'a'.repeat(43), secret: 'sec', agentId: 1000002 },
  };
  return new WecomChannel(wecom, roster, redis, keys(prefix), log);
}
const ctx = () => ({ jobId: `job-${++n}`, attempt: 1 });
const dm = (person: string, text: string): Outgoing => ({
  to: { kind: 'user', person },
  message: { type: 'text', text },
});

beforeAll(async () => {
  redis = redisClient();
  fake = await startFakeWecom({
    corpId: 'wwcorp',
    corpSecret: 'sec',
    agentId: 1000002,
    webhookKeys: ['k-repair', 'k-manager'],
  });
  const env = { WECOM_WEBHOOK_SHUIDIAN: 'k-repair', WECOM_WEBHOOK_MANAGER: 'k-manager' };
  roster = new Roster(loadSettings(env, 'config/example.yaml').config);
});

afterAll(async () => {
  await fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('WeCom sender', () => {
  it('shares one access_token across instances and refreshes it once when WeCom revokes it', async () => {
    const a = channel();
    const b = channel();
    await Promise.all([
      a.deliver(dm('li_sf', '甲'), ctx()),
      b.deliver(dm('wu_sf', '乙'), ctx()),
      a.deliver(dm('he_ay', '丙'), ctx()),
    ]);
    expect(fake.requests.filter((r) => r.kind === 'gettoken')).toHaveLength(1);
    fake.revokeTokens();
    await b.deliver(dm('li_sf', '丁'), ctx());
    expect(fake.requests.filter((r) => r.kind === 'gettoken')).toHaveLength(2);
    const sends = fake.requests.filter((r) => r.kind === 'message.send');
    expect(sends.at(-2)!.errcode).toBe(42001);
    expect(sends.at(-1)!.errcode).toBe(0);
    expect(sends.at(-1)!.body).toMatchObject({
      touser: 'LiShiFu',
      agentid: 1000002,
      msgtype: 'text',
      text: { content: '丁' },
      enable_duplicate_check: 1,
    });
  });

  it('keeps a group robot under 20 messages a minute: the 21st waits instead of tripping 45009', async () => {
    const c = channel();
    const out: Outgoing = {
      to: { kind: 'chat', chat: 'team_shuidian' },
      message: { type: 'text', text: '通知', mention: ['li_sf'] },
    };
    for (let i = 0; i < 20; i++)
      await c.deliver({ ...out, message: { type: 'text', text: `通知 ${i}`, mention: ['li_sf'] } }, ctx());
    const err = await c.deliver(out, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryLater);
    expect((err as RetryLater).delayMs).toBeGreaterThan(55_000);
    const hooks = fake.requests.filter((r) => r.kind === 'webhook.send' && r.query.key === 'k-repair');
    expect(hooks).toHaveLength(20);
    expect(hooks.every((h) => h.errcode === 0)).toBe(true);
    expect(hooks[0].body.text.mentioned_list).toEqual(['LiShiFu']);
  });

  it('when WeCom throttles anyway (45009), closes the window and retries later; other errors say whether to retry', async () => {
    const c = channel();
    fake.failNext('webhook.send', 45009);
    const out: Outgoing = { to: { kind: 'chat', chat: 'manager' }, message: { type: 'markdown', text: '**升级**' } };
    expect(await c.deliver(out, ctx()).catch((e: unknown) => e)).toBeInstanceOf(RetryLater);
    expect(await c.deliver(out, ctx()).catch((e: unknown) => e)).toBeInstanceOf(RetryLater); // window still closed
    fake.failNext('message.send', -1);
    const busy = (await c.deliver(dm('li_sf', 'x'), ctx()).catch((e: unknown) => e)) as PlatformError;
    expect(busy).toBeInstanceOf(PlatformError);
    expect(busy.retryable).toBe(true);
    fake.failNext('message.send', 40003);
    const bad = (await c.deliver(dm('li_sf', 'y'), ctx()).catch((e: unknown) => e)) as PlatformError;
    expect(bad.retryable).toBe(false);
  });

  it('stores the response_code of each claim card and uses each once to update the others', async () => {
    const c = channel();
    const card = {
      ref: 't9001',
      title: '新报修 #9001',
      fields: [{ label: '地点', value: '小一班' }],
      buttons: [{ text: '接单', key: 'claim:9001' }],
    };
    await c.deliver({ to: { kind: 'user', person: 'li_sf' }, message: { type: 'card', card } }, ctx());
    await c.deliver({ to: { kind: 'user', person: 'wu_sf' }, message: { type: 'card', card } }, ctx());
    const taken = { ...card, buttons: [{ text: '李师傅已接单', key: 'noop:9001', style: 'muted' as const }] };
    const update: Outgoing = {
      to: { kind: 'cards', ref: 't9001', except: 'li_sf' },
      message: { type: 'card', card: taken },
    };
    await c.deliver(update, ctx());
    await c.deliver(update, ctx()); // a retry finds no code left and sends nothing
    const updates = fake.requests.filter((r) => r.kind === 'update_template_card');
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({
      errcode: 0,
      body: { userids: ['WuShiFu'], template_card: { button_list: [{ text: '李师傅已接单', style: 4 }] } },
    });
    expect(fake.violations()).toEqual([]);
  });

  it('a response_url reply retried after WeCom took it (the sender died in between) completes; a first refusal fails', async () => {
    const c = channel();
    const reply = (responseUrl: string): Outgoing => ({
      to: {
        kind: 'reply',
        handle: {
          channel: 'wecom',
          surface: 'aibot',
          chatId: 'wrStaff',
          chatType: 'group',
          senderPlatformId: 'WangLi',
          responseUrl,
          envelopeId: 'e1',
        },
      },
      message: { type: 'text', text: '✅ 已登记 #7' },
    });
    const taken = reply(fake.mintResponseUrl({ chattype: 'group' }));
    const job = ctx();
    await c.deliver(taken, job);
    await c.deliver(taken, { ...job, attempt: 2 }); // the outbox never marked it sent: the same job runs again
    const calls = fake.requests.filter((r) => r.kind === 'response_url');
    expect(calls.map((r) => r.errcode === 0)).toEqual([true, false]);
    expect(calls[1].repeat).toBe(true);
    // The message handled a second time (its worker died before acknowledging it) answers otherwise, under another
    // job id: WeCom takes one reply per response_url, and the first job's had it. Not sent, and not a failure.
    await c.deliver({ ...taken, message: { type: 'text', text: '#7 已经在你名下了。' } }, ctx());
    expect(fake.requests.filter((r) => r.kind === 'response_url')).toHaveLength(2);

    // A URL WeCom never issued (or that expired) is refused on the first call: that is a failure, not "taken".
    const err = await c
      .deliver(reply(`${fake.url}/cgi-bin/aibot/response?response_code=never-issued`), ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(fake.violations().map((r) => r.violations[0])).toEqual([expect.stringContaining('not issued')]);
  });

  it('the limiter is a sliding window (fake clock)', async () => {
    const lim = new RateLimiter(redis);
    const key = `${prefix}:rate:clock`;
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) expect(await lim.take(key, 3, 60_000, `a${i}`, t0 + i * 1000)).toBe(0);
    expect(await lim.take(key, 3, 60_000, 'b', t0 + 30_000)).toBe(30_001);
    expect(await lim.take(key, 3, 60_000, 'c', t0 + 60_001)).toBe(0);
  });
});
