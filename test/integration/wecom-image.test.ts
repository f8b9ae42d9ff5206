// Pictures (the digest's chart) through the WeCom sender against the local WeCom stand-in: to a person the app
// uploads the PNG (media/upload, multipart field "media") and sends msgtype image with the media_id; to a group the
// robot takes it inline (base64 + md5); through an AI-bot response_url only its description goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { dropPrefix, keysMatching, redisClient, testPrefix } from '../helpers/redis.js';
import { startFakeWecom, type FakeWecom } from '../helpers/fake-wecom.js';
import { loadSettings } from '../../src/config/load.js';
import { Roster } from '../../src/domain/roster.js';
import { WecomChannel } from '../../src/channels/wecom/sender.js';
import { keys } from '../../src/store/keys.js';
import { createLogger } from '../../src/log.js';
import { chartPng } from '../../src/domain/digest/chart.js';
import { dailySeries } from '../../src/domain/digest/figures.js';
import type { Message, Outgoing } from '../../src/domain/messages.js';

const prefix = testPrefix('wimg');
let redis: Redis;
let fake: FakeWecom;
let roster: Roster;
let image: Extract<Message, { type: 'image' }>;
let n = 0;
const ctx = () => ({ jobId: `img-${++n}`, attempt: 1 });

function channel(): WecomChannel {
  const wecom = {
    apiBase: fake.url,
    corpId: 'wwcorp',
    app: { token: 't', aesKey: 'a'.repeat(43), secret: 'sec', agentId: 1000002 },
  };
  return new WecomChannel(wecom, roster, redis, keys(prefix), createLogger('silent'));
}

beforeAll(async () => {
  redis = redisClient();
  fake = await startFakeWecom({ corpId: 'wwcorp', corpSecret: 'sec', agentId: 1000002, webhookKeys: ['k-manager'] });
  roster = new Roster(loadSettings({ WECOM_WEBHOOK_MANAGER: 'k-manager' }, 'config/example.yaml').config);
  const series = dailySeries(
    ['2026-11-19', '2026-11-20'],
    new Map([['2026-11-20', { 'rep:repair': 3, 'fin:repair': 2, 'finms:repair': 4 * 3_600_000 }]]),
  );
  const png = chartPng({ title: '周报', series, finishTargetMs: 24 * 3_600_000 }, null);
  image = { type: 'image', png: png.toString('base64'), alt: '周报图表：每日新增工单与平均完工用时' };
});

afterAll(async () => {
  await fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('images through WeCom', () => {
  it('to a person: media/upload, then message/send msgtype image; the same picture is uploaded once', async () => {
    const c = channel();
    await c.deliver({ to: { kind: 'user', person: 'zhou_yz' }, message: image }, ctx());
    await c.deliver({ to: { kind: 'user', person: 'chen_zr' }, message: image }, ctx());
    const uploads = fake.requests.filter((r) => r.kind === 'media.upload');
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toMatchObject({
      errcode: 0,
      query: { type: 'image' },
      media: {
        filename: 'chart.png',
        contentType: 'image/png',
        md5: createHash('md5').update(Buffer.from(image.png, 'base64')).digest('hex'),
      },
    });
    const mediaId = uploads[0].media!.mediaId!;
    expect(fake.uploaded(mediaId)!.data.equals(Buffer.from(image.png, 'base64'))).toBe(true);
    const sends = fake.requests.filter((r) => r.kind === 'message.send');
    expect(sends.map((s) => [s.body.touser, s.body.msgtype, s.body.image?.media_id, s.errcode])).toEqual([
      ['ZhouYuanZhang', 'image', mediaId, 0],
      ['ChenZhuRen', 'image', mediaId, 0],
    ]);
    expect(fake.violations()).toEqual([]);
  });

  it('a rejected token during upload is refreshed once', async () => {
    await redis.del(...(await keysMatching(redis, `${prefix}:wecom:media:*`)));
    fake.revokeTokens();
    await channel().deliver({ to: { kind: 'user', person: 'zhou_yz' }, message: image }, ctx());
    const uploads = fake.requests.filter((r) => r.kind === 'media.upload');
    expect(uploads.slice(-2).map((u) => u.errcode)).toEqual([42001, 0]);
    expect(fake.requests.at(-1)).toMatchObject({ kind: 'message.send', errcode: 0, body: { msgtype: 'image' } });
  });

  it('to a group: the robot takes base64 and md5; through response_url only the description', async () => {
    const c = channel();
    await c.deliver({ to: { kind: 'chat', chat: 'manager' }, message: image }, ctx());
    const hook = fake.requests.filter((r) => r.kind === 'webhook.send').at(-1)!;
    expect(hook).toMatchObject({ errcode: 0, body: { msgtype: 'image', image: { base64: image.png } } });
    const handle = {
      channel: 'wecom',
      surface: 'aibot',
      chatId: 'g',
      chatType: 'group' as const,
      senderPlatformId: 'ZhouYuanZhang',
      envelopeId: 'e1',
      responseUrl: fake.mintResponseUrl({ chattype: 'group' }),
    };
    const out: Outgoing = { to: { kind: 'reply', handle }, message: image };
    await c.deliver(out, ctx());
    expect(fake.requests.at(-1)).toMatchObject({
      kind: 'response_url',
      errcode: 0,
      body: { msgtype: 'markdown', markdown: { content: image.alt } },
    });
    expect(fake.violations()).toEqual([]);
  });
});
