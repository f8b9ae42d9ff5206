// Photos end to end: the real service as a child process, the local WeCom stand-in serving pictures the way WeCom
// does (AI bot: a 5-minute link to AES-encrypted bytes; app: a MediaId for media/get), and what the workers see:
// the claim card, then the photo as a picture (media/upload once, message/send msgtype image with its media_id).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { aibotPost, appPost, appTextXml } from '../helpers/wecom-callbacks.js';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { startService, testConfig, until, type RunningService } from '../helpers/service.js';
import { wecomWorld, type WecomWorld } from '../helpers/wecom-env.js';
import type { Recorded } from '../helpers/fake-wecom.js';
import { png } from '../helpers/pictures.js';
import { TaskStore } from '../../src/store/tasks.js';
import { PhotoStore } from '../../src/store/photos.js';

const LIMIT = 200 * 1024;
let world: WecomWorld;
let svc: RunningService;
let redis: Redis;
let store: TaskStore;
let photos: PhotoStore;
let mediaDir: string;
const prefix = testPrefix('e2ephoto');
let seq = 0;
const msgid = () => `pm-${Date.now()}-${++seq}-${randomBytes(3).toString('hex')}`;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function aibot(payload: object) {
  const { query, body } = aibotPost(world.aibot, payload);
  const res = await fetch(`${svc.url}/wecom/aibot?${query}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status).toBe(200);
}

async function app(innerXml: string) {
  const { query, body } = appPost(world.app, innerXml);
  const res = await fetch(`${svc.url}/wecom/app?${query}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'text/xml' },
  });
  expect(res.status).toBe(200);
}

const appMsgId = () => String(BigInt(Date.now()) * 1000n + BigInt(++seq));
const appSay = (from: string, content: string) =>
  app(appTextXml({ corpId: world.app.corpId, agentId: world.app.agentId, from, content, msgId: appMsgId() }));
/** A picture sent to the app (decrypted inner XML, as WeCom's receive-message docs show it). */
const appImage = (from: string, mediaId: string) =>
  app(
    `<xml><ToUserName><![CDATA[${world.app.corpId}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName>` +
      `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[image]]></MsgType>` +
      `<PicUrl><![CDATA[http://wx.qlogo.invalid/pic]]></PicUrl><MediaId><![CDATA[${mediaId}]]></MediaId>` +
      `<MsgId>${appMsgId()}</MsgId><AgentID>${world.app.agentId}</AgentID></xml>`,
  );

const link = (bytes: Buffer) => world.fake.serveImage(bytes, { aesKey: world.aibot.aesKey });
const replyTo = (url: string) => (r: Recorded) =>
  r.kind === 'response_url' && url.endsWith(`${r.path}?${new URLSearchParams(r.query).toString()}`);
/** message/send msgtype image to a user whose media_id was uploaded with these bytes. */
const imageTo = (userid: string, bytes: Buffer) => (r: Recorded) =>
  r.kind === 'message.send' &&
  r.errcode === 0 &&
  r.body.touser === userid &&
  r.body.msgtype === 'image' &&
  world.fake.uploaded(r.body.image.media_id)?.md5 === md5(bytes);

beforeAll(async () => {
  world = await wecomWorld();
  redis = redisClient();
  store = new TaskStore(redis, prefix);
  photos = new PhotoStore(redis, prefix);
  mediaDir = mkdtempSync(join(tmpdir(), 'houqin-e2e-media-'));
  const config = testConfig((cfg) => {
    for (const t of cfg.teams) delete t.onDuty;
    cfg.jobs = { menu: { enabled: false } };
  });
  svc = await startService({
    ...world.env,
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: config,
    HOUQIN_MEDIA_DIR: mediaDir,
    HOUQIN_MEDIA_MAX_BYTES: String(LIMIT),
  });
});

afterAll(async () => {
  await svc?.stop();
  await world?.fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
  rmSync(mediaDir, { recursive: true, force: true });
});

describe('photos through WeCom, end to end', () => {
  it('a report with a photo in a group: the workers get the claim card, then the photo as a picture', async () => {
    const bytes = png({ minBytes: 20_000 });
    const responseUrl = world.fake.mintResponseUrl({ chattype: 'group' });
    // A mixed message: the @-mention and the words, and a picture (wecom.md §3.2).
    await aibot({
      msgid: msgid(),
      aibotid: 'AIBOTID',
      chatid: 'wrGroupXiao1',
      chattype: 'group',
      from: { userid: 'WangLi' },
      response_url: responseUrl,
      msgtype: 'mixed',
      mixed: {
        msg_item: [
          { msgtype: 'text', text: { content: '@后勤助手 报修 小一班 水龙头一直漏水' } },
          { msgtype: 'image', image: { url: link(bytes) } },
        ],
      },
    });
    const ack = await world.fake.waitFor(replyTo(responseUrl), 15_000);
    const id = Number(/#(\d+)/.exec(ack.body.markdown.content)![1]);
    const photo = await until('the photo on the task', async () => (await photos.list(id))[0]);
    expect(photo).toMatchObject({ kind: 'report', by: 'wang_li', size: bytes.length });
    expect(existsSync(join(mediaDir, photo.hash.slice(0, 2), photo.hash))).toBe(true);

    const cards = await world.fake.waitForCount(
      (r) =>
        r.kind === 'message.send' &&
        r.body.msgtype === 'template_card' &&
        r.body.template_card.button_list[0].key === `claim:${id}`,
      2,
      15_000,
    );
    const workers = cards.map((c) => c.body.touser).sort();
    expect(workers).toEqual(['LiShiFu', 'WuShiFu']);
    for (const w of workers) await world.fake.waitFor(imageTo(w, bytes), 15_000);
    // Uploaded once for both, the bytes exactly as the teacher sent them (decrypted).
    const uploads = world.fake.requests.filter((r) => r.kind === 'media.upload' && r.media?.md5 === md5(bytes));
    expect(uploads).toHaveLength(1);
    expect(uploads[0].media!.data.equals(bytes)).toBe(true);
    expect(uploads[0].media!.contentType).toBe('image/png');
    expect(world.fake.requests.filter((r) => r.kind === 'media.download').at(-1)).toMatchObject({ errcode: 0 });
    expect(world.fake.violations()).toEqual([]);
  });

  it('the worker photographs the finished job in the app: the reporter gets it after the acceptance card', async () => {
    const responseUrl = world.fake.mintResponseUrl();
    await aibot({
      msgid: msgid(),
      aibotid: 'AIBOTID',
      chattype: 'single',
      from: { userid: 'WangLi' },
      response_url: responseUrl,
      msgtype: 'text',
      text: { content: '报修 小一班 灯管不亮' },
    });
    const ack = await world.fake.waitFor(replyTo(responseUrl), 15_000);
    const id = Number(/#(\d+)/.exec(ack.body.markdown.content)![1]);
    await appSay('LiShiFu', `接单 ${id}`);
    await until('claimed', async () => (await store.get(id))?.state === 'claimed');
    await appSay('LiShiFu', `完工 ${id} 换了灯管`);
    await world.fake.waitFor(
      (r) =>
        r.kind === 'message.send' &&
        r.body.touser === 'WangLi' &&
        r.body.msgtype === 'template_card' &&
        r.body.template_card.button_list[0].key === `accept:${id}`,
      15_000,
    );
    const bytes = png({ minBytes: 8000 });
    await appImage('LiShiFu', world.fake.userMedia(bytes));
    await world.fake.waitFor(imageTo('WangLi', bytes), 15_000);
    await world.fake.waitFor(
      (r) =>
        r.kind === 'message.send' && r.body.touser === 'LiShiFu' && JSON.stringify(r.body).includes('完工照片已附到'),
      15_000,
    );
    expect((await photos.list(id)).map((p) => [p.kind, p.by])).toEqual([['done', 'li_sf']]);
    expect(world.fake.requests.filter((r) => r.kind === 'media.get').at(-1)).toMatchObject({ errcode: 0 });
    expect(world.fake.violations()).toEqual([]);
  });

  it('a photo alone in the 1:1 chat is asked about; one over HOUQIN_MEDIA_MAX_BYTES is refused in words', async () => {
    const ask = world.fake.mintResponseUrl();
    await aibot({
      msgid: msgid(),
      aibotid: 'AIBOTID',
      chattype: 'single',
      from: { userid: 'ZhaoJing' },
      response_url: ask,
      msgtype: 'image',
      image: { url: link(png()) },
    });
    expect((await world.fake.waitFor(replyTo(ask), 15_000)).body.markdown.content).toContain('这张照片是要报修吗？');

    const big = world.fake.mintResponseUrl();
    await aibot({
      msgid: msgid(),
      aibotid: 'AIBOTID',
      chattype: 'single',
      from: { userid: 'ZhaoJing' },
      response_url: big,
      msgtype: 'image',
      image: { url: link(png({ minBytes: LIMIT + 50_000 })) },
    });
    const refused = await world.fake.waitFor(replyTo(big), 15_000);
    expect(refused.body.markdown.content).toMatch(/这张照片太大了.*上限 0\.2 MB/);
    await until('the English log line', () =>
      svc.logs.find((l) => l.includes('photo refused') && l.includes('HOUQIN_MEDIA_MAX_BYTES')),
    );
  });
});
