// Pictures through the DingTalk sender and back, against the local DingTalk stand-in and real Redis: the chart and
// people's photos uploaded once with oapi media/upload (multipart, field `media`, type image) and sent as
// sampleImageMsg with the media_id; a reply with a picture takes the robot API, not the sessionWebhook; a picture
// DingTalk cannot take goes as words; and a picture someone sent is fetched by its downloadCode.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { DingtalkMedia } from '../../src/channels/dingtalk/media.js';
import { DingtalkChannel } from '../../src/channels/dingtalk/sender.js';
import type { Envelope } from '../../src/channels/envelope.js';
import { loadSettings, type DingtalkSettings } from '../../src/config/load.js';
import { chartPng } from '../../src/domain/digest/chart.js';
import { dailySeries } from '../../src/domain/digest/figures.js';
import type { Message, ReplyHandle } from '../../src/domain/messages.js';
import { Roster } from '../../src/domain/roster.js';
import { createLogger } from '../../src/log.js';
import { keys } from '../../src/store/keys.js';
import { MediaError, MediaStore } from '../../src/store/media.js';
import { startFakeDingtalk, type DingRecorded, type FakeDingtalk } from '../helpers/fake-dingtalk.js';
import { png } from '../helpers/pictures.js';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';

const APP = { appKey: 'dingappkey', appSecret: 'appsecret', robotCode: 'dingrobot' };
let fake: FakeDingtalk;
let redis: Redis;
let media: MediaStore;
let dir: string;
let settings: DingtalkSettings;
let chart: Extract<Message, { type: 'image' }>;
const prefix = testPrefix('dtpic');
const roster = new Roster(loadSettings({}, 'config/example.yaml').config);
const log = createLogger('silent');
let n = 0;
const ctx = () => ({ jobId: `pic-${++n}`, attempt: 1 });
const channel = () => new DingtalkChannel(settings, roster, redis, keys(prefix), log, { media });
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sends = (kind: DingRecorded['kind']) => fake.requests.filter((r) => r.kind === kind && r.status === 200);

beforeAll(async () => {
  fake = await startFakeDingtalk(APP);
  redis = redisClient();
  dir = mkdtempSync(join(tmpdir(), 'houqin-dtpic-'));
  media = new MediaStore(dir);
  settings = { ...APP, apiBase: fake.url, oapiBase: fake.url, mode: 'http' };
  const series = dailySeries(
    ['2026-11-19', '2026-11-20'],
    new Map([['2026-11-20', { 'rep:repair': 3, 'fin:repair': 2, 'finms:repair': 4 * 3_600_000 }]]),
  );
  const bytes = chartPng({ title: '周报', series, finishTargetMs: 24 * 3_600_000 }, null);
  chart = { type: 'image', png: bytes.toString('base64'), alt: '周报图表：每日新增工单与平均完工用时' };
});

afterAll(async () => {
  await fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('pictures out through the robot API', () => {
  it('the chart to two people: one media/upload, then sampleImageMsg with its media_id to each', async () => {
    const c = channel();
    await Promise.all([
      c.deliver({ to: { kind: 'user', person: 'zhou_yz' }, message: chart }, ctx()),
      c.deliver({ to: { kind: 'user', person: 'chen_zr' }, message: chart }, ctx()),
    ]);
    const uploads = fake.requests.filter((r) => r.kind === 'mediaUpload');
    expect(uploads).toHaveLength(1);
    const up = uploads[0];
    expect(up).toMatchObject({ code: '', body: { type: 'image' }, media: { filename: 'chart.png' } });
    expect(up.media!.contentType).toBe('image/png');
    expect(md5(up.media!.data)).toBe(md5(Buffer.from(chart.png, 'base64')));
    const mediaId = up.media!.mediaId!;
    const dms = sends('batchSend').filter((r) => r.body.msgKey === 'sampleImageMsg');
    expect(dms.map((r) => [r.body.userIds[0], r.param.photoURL]).sort()).toEqual([
      ['01123456', mediaId],
      ['01123457', mediaId],
    ]);
    expect(fake.violations()).toEqual([]);
  });

  it('a stored photo to a group; a reply with a photo takes the robot API even with a live sessionWebhook', async () => {
    const bytes = png({ minBytes: 5000 });
    const stored = await media.put(bytes);
    const photo: Message = { type: 'photo', photo: stored.hash, alt: '#7 现场照片' };
    await channel().deliver({ to: { kind: 'chat', chat: 'team_shuidian' }, message: photo }, ctx());
    const group = sends('groupSend').at(-1)!;
    expect(group.body).toMatchObject({ openConversationId: 'cidShuidianTeam0Repair+c4g==', msgKey: 'sampleImageMsg' });
    expect(fake.uploaded(group.param.photoURL)!.data.equals(bytes)).toBe(true);

    const live = fake.mintSessionWebhook();
    const handle: ReplyHandle = {
      channel: 'dingtalk',
      surface: 'robot',
      chatId: 'cidSingle02110001==',
      chatType: 'single',
      senderPlatformId: '02110001',
      responseUrl: live.url,
      responseUrlExpiresAt: live.expiresAt,
      envelopeId: 'dingtalk:robot:p1',
    };
    const sessions = fake.requests.filter((r) => r.kind === 'session').length;
    await channel().deliver({ to: { kind: 'reply', handle }, message: photo }, ctx());
    expect(fake.requests.filter((r) => r.kind === 'session').length).toBe(sessions);
    expect(sends('batchSend').at(-1)!.body).toMatchObject({ userIds: ['02110001'], msgKey: 'sampleImageMsg' });
    // Uploaded once: the second send found the media_id in Redis.
    expect(fake.requests.filter((r) => r.kind === 'mediaUpload' && md5(r.media!.data) === md5(bytes))).toHaveLength(1);
  });

  it('a picture DingTalk cannot take (WebP) or that is gone goes as its words and says why', async () => {
    const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 '), Buffer.alloc(64)]);
    const stored = await media.put(webp);
    await channel().deliver(
      { to: { kind: 'user', person: 'li_sf' }, message: { type: 'photo', photo: stored.hash, alt: '#8 现场照片' } },
      ctx(),
    );
    expect(sends('batchSend').at(-1)!.param).toEqual({
      title: '📷 8 现场照片',
      text: '📷 #8 现场照片\n\n（这张图片的格式钉钉不支持）',
    });
    await channel().deliver(
      { to: { kind: 'user', person: 'li_sf' }, message: { type: 'photo', photo: 'f'.repeat(64), alt: '#9 现场照片' } },
      ctx(),
    );
    expect(sends('batchSend').at(-1)!.param.text).toContain('照片文件没有找到');
  });

  it('a token refused during the upload is replaced once', async () => {
    fake.revokeTokens();
    const issued = fake.tokensIssued();
    await redis.set(`${prefix}:token:dingtalk:${APP.appKey}`, 'stale'); // as if another instance cached it
    await channel().deliver(
      { to: { kind: 'user', person: 'wu_sf' }, message: { type: 'image', png: png().toString('base64'), alt: '图' } },
      ctx(),
    );
    const ups = fake.requests.filter((r) => r.kind === 'mediaUpload').slice(-2);
    expect(ups.map((r) => r.code)).toEqual(['88', '']);
    expect(fake.tokensIssued()).toBe(issued + 1);
    expect(sends('batchSend').at(-1)!.body.msgKey).toBe('sampleImageMsg');
  });
});

describe('pictures in', () => {
  const env = { id: 'dingtalk:robot:x', channel: 'dingtalk' } as Envelope;
  it('a downloadCode becomes the bytes through messageFiles/download; an unknown code is unreadable', async () => {
    const m = new DingtalkMedia(settings, redis, keys(prefix), log, 1024 * 1024);
    const bytes = png({ minBytes: 3000 });
    expect((await m.fetch(env, { downloadCode: fake.pictureCode(bytes) })).equals(bytes)).toBe(true);
    const asked = fake.requests.filter((r) => r.kind === 'fileDownload').at(-1)!;
    expect(asked.body).toMatchObject({ robotCode: APP.robotCode });
    expect(asked.headers['x-acs-dingtalk-access-token']).toBeTruthy();
    await expect(m.fetch(env, { downloadCode: 'nope' })).rejects.toBeInstanceOf(MediaError);
    const small = new DingtalkMedia(settings, redis, keys(prefix), log, 1000);
    await expect(small.fetch(env, { downloadCode: fake.pictureCode(bytes) })).rejects.toMatchObject({
      reason: 'too_big',
    });
  });
});
