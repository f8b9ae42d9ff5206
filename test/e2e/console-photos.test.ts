// Photos in the console, through its JSON API as the page uses it: an upload with a report, the thumbnail's source
// (GET /console/api/photos/<hash>, behind the console token like the rest of the API), the task board's photos, the
// worker's DM with the card and the photo, and the answers to a photo alone, a photo too big, a body far too big.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { startService, testConfig, until, type RunningService } from '../helpers/service.js';
import { dataUrl, png } from '../helpers/pictures.js';

const TOKEN = 'photo-console-token';
const LIMIT = 100 * 1024;
const prefix = testPrefix('cphoto');
let svc: RunningService;
let redis: Redis;
let mediaDir: string;

type Msg = { id: string; from: { kind: string; name: string }; type: string; text?: string; photo?: string };

const api = (path: string, body?: unknown, token: string | null = TOKEN) =>
  fetch(`${svc.url}/console/api${path}`, {
    ...(body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) }),
    headers: { 'content-type': 'application/json', ...(token ? { 'x-console-token': token } : {}) },
  });
const read = async (chat: string): Promise<Msg[]> =>
  ((await (await api(`/messages?chat=${encodeURIComponent(chat)}`)).json()) as { messages: Msg[] }).messages;
const botSaid = (chat: string, needle: string) =>
  until(`bot says "${needle}" in ${chat}`, async () =>
    (await read(chat)).find((m) => m.from.kind === 'bot' && JSON.stringify(m).includes(needle)),
  );

beforeAll(async () => {
  redis = redisClient();
  mediaDir = mkdtempSync(join(tmpdir(), 'houqin-console-media-'));
  svc = await startService({
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONSOLE_TOKEN: TOKEN,
    HOUQIN_MEDIA_DIR: mediaDir,
    HOUQIN_MEDIA_MAX_BYTES: String(LIMIT),
    HOUQIN_CONFIG: testConfig((cfg) => {
      cfg.teams.forEach((t: { onDuty?: unknown }) => delete t.onDuty);
      cfg.jobs = { menu: { enabled: false } };
    }),
  });
});

afterAll(async () => {
  await svc?.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
  rmSync(mediaDir, { recursive: true, force: true });
});

describe('console photos', () => {
  it('a report with a photo: the chat shows it, the board shows it, the worker gets it after the card', async () => {
    const bytes = png({ side: 32, minBytes: 4000 });
    const res = await api('/messages', {
      as: 'wang_li',
      chat: 'class_xiao1',
      text: '报修 小一班 空调不制冷',
      image: dataUrl(bytes),
    });
    expect(res.status).toBe(200);
    const { id: messageId, image } = (await res.json()) as { id: string; image: { hash: string } };
    expect(image.hash).toMatch(/^[0-9a-f]{64}$/);

    // The chat: her message carries the photo (the page shows GET /console/api/photos/<hash> as a thumbnail).
    const mine = (await read('class_xiao1')).find((m) => m.id === messageId)!;
    expect(mine).toMatchObject({ type: 'image', text: '报修 小一班 空调不制冷', photo: image.hash });
    const ack = await botSaid('class_xiao1', '已登记');
    const task = Number(/#(\d+)/.exec(ack.text!)![1]);

    // The photo route: the bytes, as a picture, only with the token.
    const got = await api(`/photos/${image.hash}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await api(`/photos/${image.hash}`, undefined, null)).status).toBe(401);
    expect((await fetch(`${svc.url}/console/api/photos/${image.hash}?token=${TOKEN}`)).status).toBe(200); // <img src>
    expect((await api(`/photos/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await api('/photos/..%2F..%2Fetc%2Fpasswd')).status).toBe(404);

    // The board.
    const board = await until('the task on the board with its photo', async () => {
      const { tasks } = (await (await api('/tasks')).json()) as {
        tasks: { id: number; photos: { hash: string; kind: string }[] }[];
      };
      return tasks.find((t) => t.id === task && t.photos.length);
    });
    expect(board.photos).toEqual([{ hash: image.hash, kind: 'report' }]);

    // The worker's DM: the claim card, then the photo.
    const dm = await until('card and photo in 李师傅 DM', async () => {
      const msgs = await read('dm:li_sf');
      const card = msgs.findIndex((m) => m.type === 'card' && JSON.stringify(m).includes(`claim:${task}`));
      const pic = msgs.findIndex((m) => m.type === 'image' && m.photo === image.hash);
      return card >= 0 && pic >= 0 ? { card, pic, msgs } : undefined;
    });
    expect(dm.msgs[dm.pic]).toMatchObject({ from: { kind: 'bot' }, text: `#${task} 现场照片` });
  });

  it('a photo alone in 私聊机器人 is asked about; the next report there takes it', async () => {
    const res = await api('/messages', { as: 'zhao_jing', chat: 'dm:zhao_jing', image: dataUrl(png()) });
    expect(res.status).toBe(200);
    await botSaid('dm:zhao_jing', '这张照片是要报修吗？');
    await api('/messages', { as: 'zhao_jing', chat: 'dm:zhao_jing', text: '大一班 门把手坏了' });
    const ack = await botSaid('dm:zhao_jing', '已登记');
    const task = Number(/#(\d+)/.exec(ack.text!)![1]);
    await until('the photo on the task', async () => {
      const { tasks } = (await (await api('/tasks')).json()) as { tasks: { id: number; photos: unknown[] }[] };
      return tasks.find((t) => t.id === task)?.photos.length === 1;
    });
  });

  it('too big: a Chinese answer in the chat; far too big: 413; neither words nor photo: 400', async () => {
    const over = await api('/messages', {
      as: 'li_na',
      chat: 'dm:li_na',
      image: dataUrl(png({ minBytes: LIMIT + 5000 })),
    });
    expect(over.status).toBe(200);
    expect(((await over.json()) as { image: unknown }).image).toMatchObject({ error: 'too_big', limit: LIMIT });
    await botSaid('dm:li_na', '这张照片太大了');
    await until('the English log line', () => svc.logs.find((l) => l.includes('console photo refused')));
    const huge = await api('/messages', {
      as: 'li_na',
      chat: 'dm:li_na',
      image: dataUrl(png({ minBytes: 2 * LIMIT })),
    });
    expect(huge.status).toBe(413);
    expect((await api('/messages', { as: 'li_na', chat: 'dm:li_na' })).status).toBe(400);
    expect((await api('/messages', { as: 'li_na', chat: 'dm:li_na', text: '  ' })).status).toBe(400);
  });

  it('serves the page with the photo button', async () => {
    const page = await (await fetch(`${svc.url}/console?token=${TOKEN}`)).text();
    expect(page).toContain('id="photo-btn"');
    expect(page).toContain('accept="image/jpeg,image/png,image/gif,image/webp"');
  });
});
