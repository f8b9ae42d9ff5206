// The DingTalk sender against the fake DingTalk API and the real Redis: the shared access token, replies through
// the sessionWebhook and past its expiry, groups and people through the robot API (20 userIds a call), and which
// refusals the outbox tries again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RetryLater } from '../../src/channels/channel.js';
import { DingtalkChannel } from '../../src/channels/dingtalk/sender.js';
import type { DingtalkSettings } from '../../src/config/load.js';
import { loadSettings } from '../../src/config/load.js';
import type { ReplyHandle } from '../../src/domain/messages.js';
import { Roster } from '../../src/domain/roster.js';
import { PlatformError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { keys } from '../../src/store/keys.js';
import { startFakeDingtalk, type FakeDingtalk } from '../helpers/fake-dingtalk.js';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';

let fake: FakeDingtalk;
let redis: Redis;
const prefix = testPrefix('dingtalk');
const config = loadSettings({}, 'config/example.yaml').config;
const roster = new Roster(config);
let settings: DingtalkSettings;
const ctx = { jobId: 'j', attempt: 1 };
const channel = () => new DingtalkChannel(settings, roster, redis, keys(prefix), createLogger('silent'));

beforeAll(async () => {
  fake = await startFakeDingtalk({
    appKey: 'dingappkey',
    appSecret: 'appsecret',
    robotCode: 'dingrobot',
    conversations: config.chats.map((c) => c.dingtalk.conversationId!).filter(Boolean),
  });
  redis = redisClient();
  settings = {
    apiBase: fake.url,
    oapiBase: fake.url,
    appKey: 'dingappkey',
    appSecret: 'appsecret',
    robotCode: 'dingrobot',
    mode: 'http',
  };
});

afterAll(async () => {
  await fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

const handle = (o: Partial<ReplyHandle>): ReplyHandle => ({
  channel: 'dingtalk',
  surface: 'robot',
  chatId: 'cidXiao1Teachers0Grp+a2Q==',
  chatType: 'group',
  senderPlatformId: '02110001',
  envelopeId: 'dingtalk:robot:x',
  ...o,
});

describe('DingTalk sender', () => {
  it('reaches people by people[].dingtalk, chats by chats[].dingtalk.conversationId, and its own replies', () => {
    const c = channel();
    expect(c.reaches({ kind: 'user', person: 'li_sf' })).toBe(true);
    expect(c.reaches({ kind: 'chat', chat: 'team_shuidian' })).toBe(true);
    expect(c.reaches({ kind: 'reply', handle: handle({}) })).toBe(true);
    expect(c.reaches({ kind: 'reply', handle: handle({ channel: 'wecom' }) })).toBe(false);
    expect(c.reaches({ kind: 'cards', ref: 't1' })).toBe(false);
  });

  it('two instances share one access token from Redis; a rejected token is replaced once', async () => {
    const a = channel();
    const b = channel();
    await Promise.all([
      a.deliver({ to: { kind: 'user', person: 'li_sf' }, message: { type: 'text', text: '一' } }, ctx),
      b.deliver({ to: { kind: 'user', person: 'wu_sf' }, message: { type: 'text', text: '二' } }, ctx),
    ]);
    expect(fake.tokensIssued()).toBe(1);
    fake.revokeTokens();
    await a.deliver({ to: { kind: 'chat', chat: 'team_shuidian' }, message: { type: 'markdown', text: '# 三' } }, ctx);
    expect(fake.tokensIssued()).toBe(2);
    const sent = await fake.waitFor((r) => r.kind === 'groupSend' && r.status === 200);
    expect(sent.body.openConversationId).toBe('cidShuidianTeam0Repair+c4g==');
    expect(sent.param).toEqual({ title: '三', text: '# 三' });
    expect(await redis.ttl(`${prefix}:token:dingtalk:dingappkey`)).toBeGreaterThan(6800);
    expect(await redis.ttl(`${prefix}:token:dingtalk:dingappkey`)).toBeLessThanOrEqual(6900);
  });

  it('sends to many people in calls of at most 20', async () => {
    const ids = Array.from({ length: 45 }, (_, i) => `0399${String(i).padStart(4, '0')}`);
    const before = fake.requests.filter((r) => r.kind === 'batchSend').length;
    await channel().toPeople(ids, { type: 'text', text: '通知' });
    const calls = fake.requests.filter((r) => r.kind === 'batchSend').slice(before);
    expect(calls.map((c) => c.body.userIds.length)).toEqual([20, 20, 5]);
    expect(calls.flatMap((c) => c.body.userIds)).toEqual(ids);
  });

  it('replies through a valid sessionWebhook, and through the robot API once it has expired or is refused', async () => {
    const live = fake.mintSessionWebhook();
    await channel().deliver(
      {
        to: { kind: 'reply', handle: handle({ responseUrl: live.url, responseUrlExpiresAt: live.expiresAt }) },
        message: { type: 'card', card: { ref: 't1', title: '已登记 #1', fields: [], buttons: [] } },
      },
      ctx,
    );
    const r1 = await fake.waitFor((r) => r.kind === 'session' && r.code === '');
    expect(r1.body).toMatchObject({ msgtype: 'markdown', markdown: { title: '已登记 #1' } });

    const old = fake.mintSessionWebhook(Date.now() + 30_000); // inside the last minute: not trusted
    const groupsBefore = fake.requests.filter((r) => r.kind === 'groupSend').length;
    await channel().deliver(
      {
        to: { kind: 'reply', handle: handle({ responseUrl: old.url, responseUrlExpiresAt: old.expiresAt }) },
        message: { type: 'text', text: '晚到的回复' },
      },
      ctx,
    );
    const g = fake.requests.filter((r) => r.kind === 'groupSend').slice(groupsBefore);
    expect(g.map((r) => [r.body.openConversationId, r.param.content])).toEqual([
      ['cidXiao1Teachers0Grp+a2Q==', '晚到的回复'],
    ]);

    const ended = fake.mintSessionWebhook();
    fake.failNext('session', 200, '300001');
    const dmBefore = fake.requests.filter((r) => r.kind === 'batchSend').length;
    await channel().deliver(
      {
        to: {
          kind: 'reply',
          handle: handle({ chatType: 'single', responseUrl: ended.url, responseUrlExpiresAt: ended.expiresAt }),
        },
        message: { type: 'text', text: '私聊回复' },
      },
      ctx,
    );
    const dm = fake.requests.filter((r) => r.kind === 'batchSend').slice(dmBefore);
    expect(dm.map((r) => r.body.userIds)).toEqual([['02110001']]);
  });

  it('a bad parameter fails for good; a server error is tried again; throttling waits a minute', async () => {
    const c = channel();
    const send = () =>
      c.deliver({ to: { kind: 'chat', chat: 'manager' }, message: { type: 'text', text: '测试' } }, ctx).then(
        () => undefined,
        (e: unknown) => e,
      );
    fake.failNext('groupSend', 400, 'invalidParameter.openConversationId.invalid');
    const bad = (await send()) as PlatformError;
    expect(bad).toBeInstanceOf(PlatformError);
    expect(bad.retryable).toBe(false);
    expect(bad.message).toContain('invalidParameter.openConversationId.invalid');
    fake.failNext('groupSend', 500, 'ServiceUnavailable');
    expect(((await send()) as PlatformError).retryable).toBe(true);
    fake.failNext('groupSend', 400, 'send.too.fast');
    const slow = (await send()) as RetryLater;
    expect(slow).toBeInstanceOf(RetryLater); // waits without using up an attempt
    expect(slow.delayMs).toBe(60_000);
    fake.failNext('groupSend', 403, 'Forbidden.AccessDenied.AccessTokenPermissionDenied');
    expect(((await send()) as PlatformError).retryable).toBe(false);
    expect(await send()).toBeUndefined();
    expect(fake.violations()).toEqual([]);
  });
});
