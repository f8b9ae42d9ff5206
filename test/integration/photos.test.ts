// Photos on real Redis and a real media folder, the pictures fetched from the local WeCom stand-in the way the
// workers fetch them: an AI-bot picture link that lives 5 minutes and serves the bytes AES-encrypted with the
// callback key, an app picture by MediaId through media/get. Then the task service: a photo after a report joins
// its task, a photo after 完工 is the proof, a photo alone in a 1:1 chat is asked about and waits 5 minutes (a fake
// clock: every step is handled "at" a time we choose), and pictures too big or unreadable are answered in Chinese.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import ExcelJS from 'exceljs';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';
import { startFakeWecom, type FakeWecom } from '../helpers/fake-wecom.js';
import { aesKey } from '../helpers/wecom-env.js';
import { png } from '../helpers/pictures.js';
import { loadSettings } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createParser } from '../../src/commands/parser.js';
import { Roster } from '../../src/domain/roster.js';
import { TaskService } from '../../src/domain/tasks/service.js';
import { Dispatcher } from '../../src/domain/tasks/dispatch.js';
import { followCards, PhotoConversation, PHOTO_WINDOW_MS } from '../../src/domain/tasks/photos.js';
import type { Outcome } from '../../src/domain/outcome.js';
import { TaskStore } from '../../src/store/tasks.js';
import { SideStore } from '../../src/store/side.js';
import { keys } from '../../src/store/keys.js';
import { MediaStore } from '../../src/store/media.js';
import { PhotoStore } from '../../src/store/photos.js';
import { PhotoIntake } from '../../src/channels/photo-intake.js';
import { WecomMedia } from '../../src/channels/wecom/media.js';
import type { Envelope } from '../../src/channels/envelope.js';
import { createLogger } from '../../src/log.js';
import { exportMonth } from '../../src/ledger/export.js';

const prefix = testPrefix('photos');
const CORP = { corpId: 'wwphotos', corpSecret: 'photo-secret', agentId: 1000002 };
const aibotKey = aesKey();
const LIMIT = 64 * 1024;
const MIN = 60_000;
let redis: Redis;
let fake: FakeWecom;
let config: Config;
let roster: Roster;
let store: TaskStore;
let photos: PhotoStore;
let media: MediaStore;
let service: TaskService;
let intake: PhotoIntake;
let dir: string;
const logLines: string[] = [];
const wecomId: Record<string, string> = {};
let n = 0;

beforeAll(async () => {
  redis = redisClient();
  config = loadSettings({}, 'config/example.yaml').config;
  // These tests report the same problem again on purpose; folding duplicates is tested in understanding.test.ts.
  config.sla.duplicateWindow = 0;
  for (const p of config.people) wecomId[p.id] = p.wecom!;
  roster = new Roster(config);
  store = new TaskStore(redis, prefix);
  photos = new PhotoStore(redis, prefix);
  dir = mkdtempSync(join(tmpdir(), 'houqin-media-'));
  media = new MediaStore(dir, LIMIT);
  service = new TaskService(store, new SideStore(redis, keys(prefix)), roster, createParser(config));
  service.use(new PhotoConversation(photos, store, roster));
  fake = await startFakeWecom({ ...CORP, webhookKeys: [] });
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const log = createLogger('info', sink);
  const settings = {
    apiBase: fake.url,
    corpId: CORP.corpId,
    aibot: { token: 't', aesKey: aibotKey },
    app: { token: 't', aesKey: aesKey(), secret: CORP.corpSecret, agentId: CORP.agentId },
  };
  intake = new PhotoIntake(media, photos, { wecom: new WecomMedia(settings, redis, keys(prefix), log, LIMIT) }, log);
});

afterAll(async () => {
  await fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** A message from a person in their AI-bot 1:1 chat (or a group), text and/or pictures. */
function env(person: string, o: { text?: string; images?: Envelope['images']; chat?: 'single' | 'group' }): Envelope {
  const msgId = `p${++n}`;
  const single = (o.chat ?? 'single') === 'single';
  return {
    id: `wecom:aibot:${msgId}`,
    channel: 'wecom',
    surface: 'aibot',
    msgId,
    chat: single ? { id: `single:${wecomId[person]}`, type: 'single' } : { id: 'wrGroupXiao1', type: 'group' },
    sender: { platformId: wecomId[person] },
    ...(o.text !== undefined ? { text: o.text } : {}),
    ...(o.images ? { images: o.images } : {}),
    receivedAt: Date.now(),
  };
}

/** A picture as WeCom links it to the AI bot: encrypted with the callback key, alive for `ttlMs`. */
const link = (bytes: Buffer, ttlMs?: number) => ({ url: fake.serveImage(bytes, { aesKey: aibotKey, ttlMs }) });

/** What the workers do: fetch the pictures, then the service handles the message, at `now`. */
async function handle(e: Envelope, now: number): Promise<Outcome> {
  return service.handle(await intake.resolve(e), now);
}

const replies = (o: Outcome) =>
  o.messages
    .filter((m) => m.to.kind === 'reply')
    .map((m) => (m.message.type === 'text' ? m.message.text : ''))
    .join('\n');
const photosTo = (o: Outcome, person: string) =>
  o.messages.filter((m) => m.to.kind === 'user' && m.to.person === person && m.message.type === 'photo');

async function report(person: string, text: string, now: number, chat: 'single' | 'group' = 'single') {
  const o = await handle(env(person, { text, chat }), now);
  expect(o.route, replies(o)).toBeDefined();
  return o.route!.task;
}

describe('photo intake', () => {
  it('fetches an AI-bot picture, decrypts it with the callback key and keeps it by its hash', async () => {
    const bytes = png({ minBytes: 5000 });
    const out = await intake.resolve(env('wang_li', { images: [link(bytes)] }));
    const ref = out.images![0];
    expect(ref).toMatchObject({ mime: 'image/png', size: bytes.length });
    expect(readFileSync(media.path(ref.hash!)).equals(bytes)).toBe(true);
    expect(media.path(ref.hash!)).toBe(join(dir, ref.hash!.slice(0, 2), ref.hash!));
    expect(fake.requests.filter((r) => r.kind === 'media.download').at(-1)).toMatchObject({ errcode: 0 });
  });

  it('fetches an app picture by MediaId with media/get, as the app', async () => {
    const bytes = png();
    const mediaId = fake.userMedia(bytes);
    const e: Envelope = { ...env('li_sf', {}), surface: 'app', images: [{ mediaId }] };
    const out = await intake.resolve(e);
    expect(readFileSync(media.path(out.images![0].hash!)).equals(bytes)).toBe(true);
    const get = fake.requests.filter((r) => r.kind === 'media.get').at(-1)!;
    expect(get).toMatchObject({ errcode: 0, query: { media_id: mediaId } });
    expect(fake.violations()).toEqual([]);
  });

  it('a retried message is not fetched again (the link may have expired meanwhile)', async () => {
    const e = env('wang_li', { images: [link(png())] });
    const first = await intake.resolve(e);
    const before = fake.requests.filter((r) => r.kind === 'media.download').length;
    expect(await intake.resolve(e)).toEqual(first);
    expect(fake.requests.filter((r) => r.kind === 'media.download').length).toBe(before);
  });

  it('too big: not kept, an English log line, a Chinese reply', async () => {
    logLines.length = 0;
    const big = png({ minBytes: LIMIT + 10_000 });
    const e = await intake.resolve(env('wang_li', { images: [link(big)] }));
    expect(e.images![0]).toMatchObject({ error: 'too_big', limit: LIMIT });
    expect(e.images![0].hash).toBeUndefined();
    const line = logLines.map((l) => JSON.parse(l)).find((l) => /photo refused/.test(l.msg));
    expect(line.msg).toMatch(/^photo refused: .* is over the 0\.1 MB limit \(HOUQIN_MEDIA_MAX_BYTES\)$/);
    expect(line).toMatchObject({ level: 40, limit: LIMIT, surface: 'aibot' });
    const o = await service.handle(e, Date.now());
    expect(replies(o)).toMatch(/这张照片太大了.*上限 0\.1 MB/);
  });

  it('unreadable: an expired link, bytes that are not a picture, a wrong key', async () => {
    logLines.length = 0;
    const expired = { url: fake.serveImage(png(), { aesKey: aibotKey, ttlMs: -1 }) };
    const notAPicture = { url: fake.serveImage(Buffer.from('%PDF-1.4 not a picture at all'), { aesKey: aibotKey }) };
    const wrongKey = { url: fake.serveImage(png(), { aesKey: aesKey() }) };
    const e = await intake.resolve(env('wang_li', { images: [expired, notAPicture, wrongKey] }));
    expect(e.images!.map((i) => i.error)).toEqual(['unreadable', 'unreadable', 'unreadable']);
    expect(logLines.map((l) => JSON.parse(l).msg)).toEqual([
      expect.stringMatching(/^photo unreadable: HTTP 403 from http:\/\/127\.0\.0\.1:\d+\/aibot\/media\/\w+ \(the link/),
      'photo unreadable: the bytes are not a JPEG, PNG, GIF or WebP picture',
      expect.stringMatching(/^photo unreadable: (could not decrypt the picture|the bytes are not)/),
    ]);
    expect(logLines.join('\n')).not.toContain('sign='); // a link's signature never reaches the log
    const o = await service.handle(e, Date.now());
    expect(replies(o)).toContain('这张照片没能读取');
  });
});

describe('photos on tasks', () => {
  it('report in a 1:1 chat, then the photo: stored and attached, and sent to whoever has the claim card', async () => {
    const t0 = Date.now();
    const id = await report('wang_li', '报修 小一班 水龙头漏水', t0);
    const bytes = png({ minBytes: 3000 });
    const o = await handle(env('wang_li', { images: [link(bytes)] }), t0 + 2 * MIN);
    expect(replies(o)).toBe(`📷 照片已附到 #${id}。`);
    const list = await photos.list(id);
    expect(list).toEqual([
      expect.objectContaining({ kind: 'report', by: 'wang_li', mime: 'image/png', at: t0 + 2 * MIN }),
    ]);
    expect((await media.read(list[0].hash))!.equals(bytes)).toBe(true);
    // The claim cards may have gone out already: the photo follows them to the team's people on duty.
    const task = (await store.get(id))!;
    const onDuty = roster.onDuty(roster.team(task.team)!, t0 + 2 * MIN);
    for (const p of onDuty)
      expect(photosTo(o, p).map((m) => m.message)).toEqual([
        { type: 'photo', photo: list[0].hash, alt: `#${id} 现场照片` },
      ]);
    // And the claim card the dispatcher sends carries it from now on.
    const route = await new Dispatcher(store, roster).route(id, t0 + 3 * MIN);
    await followCards(photos, store, route);
    const cardTo = route.messages.find((m) => m.to.kind === 'user' && m.message.type === 'card')!.to;
    const person = cardTo.kind === 'user' ? cardTo.person : '';
    expect(photosTo(route, person)).toHaveLength(1);
    const cardAt = route.messages.findIndex((m) => m.to.kind === 'user' && m.message.type === 'card');
    const photoAt = route.messages.findIndex((m) => m.message.type === 'photo');
    expect(photoAt).toBeGreaterThan(cardAt);
  });

  it('a photo with the report (one message) is attached; the same picture twice is attached once', async () => {
    const t0 = Date.now();
    const bytes = png();
    const first = await intake.resolve(env('li_na', { text: '报修 中二班 椅子腿断了', images: [link(bytes)] }));
    const o = await service.handle(first, t0);
    const id = o.route!.task;
    expect(await photos.list(id)).toEqual([expect.objectContaining({ kind: 'report', by: 'li_na' })]);
    const again = await handle(env('li_na', { images: [link(bytes)] }), t0 + MIN);
    expect(replies(again)).toContain(`#${id}`);
    expect(await photos.list(id)).toHaveLength(1);
  });

  it('the 5-minute window, on a fake clock', async () => {
    const t0 = Date.now() + 3_600_000; // an hour ahead: only our clock, never Redis's, decides
    const id = await report('wang_li', '报修 小一班 灯管不亮', t0);
    const inTime = await handle(env('wang_li', { images: [link(png())] }), t0 + PHOTO_WINDOW_MS);
    expect(replies(inTime)).toBe(`📷 照片已附到 #${id}。`);
    const late = await handle(env('wang_li', { images: [link(png())] }), t0 + PHOTO_WINDOW_MS + 1000);
    expect(replies(late)).toContain('这张照片是要报修吗？');
    expect(await photos.list(id)).toHaveLength(1);
    // The late photo waits for the next report in this chat, for 5 minutes from when it came.
    const next = await report('wang_li', '报修 小一班 窗户关不上', t0 + PHOTO_WINDOW_MS + 4 * MIN);
    expect(await photos.list(next)).toHaveLength(1);
  });

  it('a photo alone in a 1:1 chat is asked about, kept, and joins the next report from that person within 5 minutes', async () => {
    const t0 = Date.now() + 2 * 3_600_000;
    const bytes = png();
    const o = await handle(env('zhao_jing', { images: [link(bytes)] }), t0);
    expect(replies(o)).toBe(
      '这张照片是要报修吗？请在5分钟内说一下在哪里、什么问题，例如“报修 小一班 水龙头漏水”，照片会附在报修单上。',
    );
    expect(o.routes).toEqual([]);
    // Someone else's report, or the same person's in another chat, does not take it.
    const other = await report('li_na', '报修 小一班 门锁坏了', t0 + MIN);
    expect(await photos.list(other)).toEqual([]);
    const group = await report('zhao_jing', '报修 大一班 插座没电', t0 + MIN, 'group');
    expect(await photos.list(group)).toEqual([]);
    const id = await report('zhao_jing', '大一班 空调漏水', t0 + 4 * MIN);
    const list = await photos.list(id);
    expect(list).toEqual([expect.objectContaining({ kind: 'report', by: 'zhao_jing', at: t0 })]);
    expect((await media.read(list[0].hash))!.equals(bytes)).toBe(true);
    // Taken once: the report after it gets nothing.
    expect(await photos.list(await report('zhao_jing', '报修 大一班 灯不亮', t0 + 4 * MIN + 1))).toEqual([]);
  });

  it('after 5 minutes a waiting photo joins nothing', async () => {
    const t0 = Date.now() + 3 * 3_600_000;
    await handle(env('wang_li', { images: [link(png())] }), t0);
    const id = await report('wang_li', '报修 小一班 柜门掉了', t0 + PHOTO_WINDOW_MS + 1000);
    expect(await photos.list(id)).toEqual([]);
  });

  it('a photo while the report waits for its place: the bot asks for the place, the photo joins the task', async () => {
    const t0 = Date.now() + 4 * 3_600_000;
    const ask = await handle(env('li_na', { text: '报修 水管漏水了' }), t0);
    expect(replies(ask)).toContain('请问在哪里');
    const pic = await handle(env('li_na', { images: [link(png())] }), t0 + 10_000);
    expect(replies(pic)).toContain('📷 照片收到了。请问在哪里？');
    const o = await handle(env('li_na', { text: '中二班' }), t0 + 20_000);
    expect(await photos.list(o.route!.task)).toHaveLength(1);
  });

  it('完工 with a photo, and a photo after 完工: the proof, sent to the reporter after the acceptance card', async () => {
    const t0 = Date.now();
    const id = await report('wang_li', '报修 小一班 水龙头漏水', t0);
    await handle({ ...env('li_sf', { text: `接单 ${id}` }) }, t0 + MIN);
    const done = await handle(env('li_sf', { text: `完工 ${id} 换了阀芯`, images: [link(png())] }), t0 + 30 * MIN);
    await followCards(photos, store, done);
    const card = done.messages.findIndex((m) => m.to.kind === 'user' && m.message.type === 'card');
    expect(done.messages[card].to).toEqual({ kind: 'user', person: 'wang_li' });
    const proof = photosTo(done, 'wang_li');
    expect(proof.map((m) => m.message)).toEqual([expect.objectContaining({ type: 'photo', alt: `#${id} 完工照片` })]);
    expect(done.messages.indexOf(proof[0])).toBeGreaterThan(card);
    // A second photo, 3 minutes later, from the worker's DM with the app: proof too, straight to the reporter.
    const later: Envelope = { ...env('li_sf', {}), surface: 'app', chat: { id: 'app:LiShiFu', type: 'single' } };
    const o = await handle({ ...later, images: [{ mediaId: fake.userMedia(png()) }] }, t0 + 33 * MIN);
    expect(replies(o)).toBe(`📷 完工照片已附到 #${id}，已发给王丽。`);
    expect(photosTo(o, 'wang_li')).toHaveLength(1);
    expect(
      o.messages.some(
        (m) => m.to.kind === 'user' && m.message.type === 'text' && m.message.text.includes('李师傅发来'),
      ),
    ).toBe(true);
    const list = await photos.list(id);
    expect(list.map((p) => [p.kind, p.by])).toEqual([
      ['done', 'li_sf'],
      ['done', 'li_sf'],
    ]);
    // The reporter's photo after the worker's 完工 is not the worker's proof.
    const reporterPhoto = await handle(env('wang_li', { images: [link(png())] }), t0 + 34 * MIN);
    expect(replies(reporterPhoto)).toContain('这张照片是要报修吗？');
  });

  it('a worker with work in hand is reminded how to send a 完工 photo', async () => {
    const t0 = Date.now() + 5 * 3_600_000;
    const id = await report('wang_li', '报修 小一班 暖气不热', t0);
    await handle(env('li_sf', { text: `接单 ${id}` }), t0 + MIN);
    const o = await handle(env('li_sf', { images: [link(png())] }), t0 + 20 * MIN);
    expect(replies(o)).toContain('这张照片是要报修吗？');
    expect(replies(o)).toMatch(/如果是完工照片，请回复“完工 \d+”。/);
  });
});

describe('photos in the ledger', () => {
  it('the 工单 sheet has a 照片 column: counts, and a hyperlink to the photo route', async () => {
    const t0 = Date.now();
    const id = await report('wang_li', '报修 小一班 地漏堵了', t0);
    await handle(env('wang_li', { images: [link(png())] }), t0 + MIN);
    const [photo] = await photos.list(id);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const month = new Date(t0 + 8 * 3_600_000).toISOString().slice(0, 7);
    await exportMonth(
      { redis, tasks: store, config, roster, photoUrl: (h) => `https://houqin.example.cn/console/api/photos/${h}` },
      month,
      out,
    );
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.concat(chunks) as never);
    const ws = wb.getWorksheet('工单')!;
    const headers = ws.getRow(2).values as unknown[];
    const col = headers.indexOf('照片');
    expect(col).toBeGreaterThan(0);
    expect(headers.at(-1)).toBe('处理经过');
    let cell: ExcelJS.CellValue = null;
    ws.eachRow((row) => {
      if (row.getCell(1).value === id) cell = row.getCell(col).value;
    });
    expect(cell).toMatchObject({
      text: '现场 1 张',
      hyperlink: `https://houqin.example.cn/console/api/photos/${photo.hash}`,
    });
  });
});
