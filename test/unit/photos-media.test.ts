// The pieces under the photo feature: the media folder (content-addressed, size-limited, pictures only), the
// decryption of AI-bot pictures, how the receivers turn WeCom picture messages into an Envelope's `images`, and the
// fake WeCom's picture endpoints (they must hold our code to the documented behaviour, or the tests prove nothing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaError, MediaStore, sniffImage } from '../../src/store/media.js';
import { decryptMedia } from '../../src/channels/wecom/crypto.js';
import { aibotRoutes } from '../../src/channels/wecom/aibot.js';
import { appRoutes } from '../../src/channels/wecom/app.js';
import type { Envelope } from '../../src/channels/envelope.js';
import type { Ingress } from '../../src/channels/ingress.js';
import { createLogger } from '../../src/log.js';
import { startFakeWecom, type FakeWecom } from '../helpers/fake-wecom.js';
import { aesKey } from '../helpers/wecom-env.js';
import { aibotPost, appPost } from '../helpers/wecom-callbacks.js';
import { png } from '../helpers/pictures.js';

let dir: string;
let fake: FakeWecom;
const CORP = { corpId: 'wwunit', corpSecret: 's', agentId: 1000002 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'houqin-media-unit-'));
  fake = await startFakeWecom({ ...CORP, webhookKeys: [] });
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await fake.close();
});

describe('the media folder', () => {
  it('keeps a picture once, under its SHA-256, in a folder of its first two hex digits', async () => {
    const m = new MediaStore(join(dir, 'a'), 10_000);
    const bytes = png();
    const one = await m.put(bytes);
    const two = await m.put(bytes);
    expect(two).toEqual(one);
    expect(one).toMatchObject({ mime: 'image/png', size: bytes.length });
    expect(readdirSync(join(dir, 'a', one.hash.slice(0, 2)))).toEqual([one.hash]); // no temporary file left
    expect((await m.read(one.hash))!.equals(bytes)).toBe(true);
    expect(await m.read('f'.repeat(64))).toBeUndefined();
    const opened = (await m.open(one.hash))!;
    expect(opened).toMatchObject({ mime: 'image/png', size: bytes.length });
    expect(await m.open('../../etc/passwd')).toBeUndefined();
    expect(() => m.path('../x')).toThrow(/not a media hash/);
  });

  it('refuses more than the limit and anything that is not a picture', async () => {
    const m = new MediaStore(join(dir, 'b'), 1000);
    await expect(m.put(png({ minBytes: 1001 }))).rejects.toMatchObject({ reason: 'too_big' });
    await expect(m.put(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).rejects.toBeInstanceOf(MediaError);
    await expect(m.put(Buffer.from('<svg/>'))).rejects.toMatchObject({ reason: 'unreadable' });
  });

  it('knows JPEG, PNG, GIF and WebP by their first bytes', () => {
    expect(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImage(png())).toBe('image/png');
    expect(sniffImage(Buffer.from('GIF89a......'))).toBe('image/gif');
    expect(sniffImage(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImage(Buffer.from('%PDF-1.4'))).toBeUndefined();
  });
});

describe('AI-bot pictures', () => {
  it('decrypt with the callback key (AES-256-CBC, IV = key[0..16], PKCS#7 to 32 bytes), whatever the length', async () => {
    const key = aesKey();
    for (const size of [0, 1, 31, 32, 33, 1000]) {
      const bytes = Buffer.concat([png(), Buffer.alloc(size, 7)]);
      const enc = Buffer.from(await (await fetch(fake.serveImage(bytes, { aesKey: key }))).arrayBuffer());
      expect(enc.length % 32).toBe(0);
      expect(decryptMedia(key, enc).equals(bytes)).toBe(true);
    }
  });

  it('a wrong key or damaged bytes fail instead of giving garbage', async () => {
    const enc = Buffer.from(await (await fetch(fake.serveImage(png(), { aesKey: aesKey() }))).arrayBuffer());
    expect(() => decryptMedia(aesKey(), enc)).toThrow(/padding/);
    expect(() => decryptMedia(aesKey(), enc.subarray(0, 17))).toThrow(/multiple of 16/);
  });
});

describe('receivers', () => {
  const accepted: Envelope[] = [];
  const ingress: Ingress = {
    accept: async (env) => {
      accepted.push(env);
      return true;
    },
    click: async () => undefined,
    firstSight: async () => true,
    forget: async () => undefined,
    maxSkewMs: 300_000,
    bodyLimitBytes: 65_536,
    log: createLogger('silent'),
    now: () => Date.now(),
  };
  const aibot = { token: 'tok', aesKey: aesKey() };
  const app = { token: 'tok2', aesKey: aesKey(), corpId: CORP.corpId, agentId: CORP.agentId };
  const post = async (routes: ReturnType<typeof aibotRoutes>, query: string, body: string) => {
    const route = routes.find((r) => r.method === 'POST')!;
    return route.handle({ query: new URLSearchParams(query), ip: '127.0.0.1', body: async () => body });
  };
  const viaAibot = async (payload: object) => {
    const { query, body } = aibotPost(aibot, payload);
    expect((await post(aibotRoutes(ingress, aibot), query, body)).status).toBe(200);
    return accepted.at(-1)!;
  };
  const base = { aibotid: 'B', from: { userid: 'WangLi' }, response_url: 'https://x.invalid/r' };

  it('AI bot: an image message is a message with a picture link and no words; the key stays out of it', async () => {
    const env = await viaAibot({
      ...base,
      msgid: 'i1',
      chattype: 'single',
      msgtype: 'image',
      image: { url: 'https://cos.invalid/p?sign=1' },
    });
    expect(env).toMatchObject({ text: '', images: [{ url: 'https://cos.invalid/p?sign=1' }] });
    expect(JSON.stringify(env)).not.toContain(aibot.aesKey);
  });

  it('AI bot: a mixed message gives its words and its pictures; a quoted picture comes along', async () => {
    const env = await viaAibot({
      ...base,
      msgid: 'm1',
      chatid: 'g1',
      chattype: 'group',
      msgtype: 'mixed',
      mixed: {
        msg_item: [
          { msgtype: 'text', text: { content: '@后勤助手 报修 小一班' } },
          { msgtype: 'image', image: { url: 'https://cos.invalid/1' } },
          { msgtype: 'text', text: { content: '水龙头漏水' } },
          { msgtype: 'image', image: { url: 'https://cos.invalid/2', aeskey: 'per-picture-key' } },
        ],
      },
    });
    expect(env.text).toBe('报修 小一班 水龙头漏水');
    expect(env.images).toEqual([
      { url: 'https://cos.invalid/1' },
      { url: 'https://cos.invalid/2', aesKey: 'per-picture-key' },
    ]);
    const quoted = await viaAibot({
      ...base,
      msgid: 'q1',
      chatid: 'g1',
      chattype: 'group',
      msgtype: 'text',
      text: { content: '@后勤助手 报修 小一班 就是这个' },
      quote: { msgtype: 'image', image: { url: 'https://cos.invalid/q' } },
    });
    expect(quoted).toMatchObject({ text: '报修 小一班 就是这个', images: [{ url: 'https://cos.invalid/q' }] });
  });

  it('app: an image message carries its MediaId for media/get', async () => {
    const xml =
      `<xml><ToUserName><![CDATA[${CORP.corpId}]]></ToUserName><FromUserName><![CDATA[LiShiFu]]></FromUserName>` +
      `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[image]]></MsgType>` +
      '<PicUrl><![CDATA[http://p.invalid/x]]></PicUrl><MediaId><![CDATA[MEDIA_1]]></MediaId>' +
      `<MsgId>7300000000000000001</MsgId><AgentID>${CORP.agentId}</AgentID></xml>`;
    const { query, body } = appPost(app, xml);
    expect((await post(appRoutes(ingress, app), query, body)).status).toBe(200);
    expect(accepted.at(-1)).toMatchObject({
      id: 'wecom:app:7300000000000000001',
      chat: { id: 'app:LiShiFu', type: 'single' },
      images: [{ mediaId: 'MEDIA_1' }],
    });
  });
});

describe('the fake WeCom, for pictures', () => {
  it('media/get wants a token and a media_id it issued; a picture link expires', async () => {
    const t = (
      await (await fetch(`${fake.url}/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.corpSecret}`)).json()
    ).access_token;
    const id = fake.userMedia(png());
    const ok = await fetch(`${fake.url}/cgi-bin/media/get?access_token=${t}&media_id=${id}`);
    expect(ok.headers.get('content-type')).toBe('image/png');
    expect((await (await fetch(`${fake.url}/cgi-bin/media/get?media_id=${id}`)).json()).errcode).toBe(41001);
    expect((await (await fetch(`${fake.url}/cgi-bin/media/get?access_token=${t}&media_id=nope`)).json()).errcode).toBe(
      40007,
    );
    expect(fake.violations().map((v) => v.violations[0])).toEqual([
      'access_token query parameter is missing',
      'media_id "nope" was not issued by this server',
    ]);
    expect((await fetch(fake.serveImage(png(), { ttlMs: -1 }))).status).toBe(403);
    const plain = png();
    expect(Buffer.from(await (await fetch(fake.serveImage(plain))).arrayBuffer()).equals(plain)).toBe(true);
  });
});
