// The 未识别 list end to end, as a manager uses it in the console: a message the bot could not read is answered with
// one short question, shows up in the list with the words the bot did not know, and turns into a task with a tap;
// the words go to the vocabulary overlay (never into the config) and the running parser knows them at once.
import type { Redis } from 'ioredis';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dropPrefix, REDIS_URL, redisClient, testPrefix } from '../helpers/redis.js';
import { type RunningService, startService, testConfig, until } from '../helpers/service.js';

const prefix = testPrefix('unread');
const overlay = join(mkdtempSync(join(tmpdir(), 'houqin-overlay-')), 'vocabulary.yaml');
let svc: RunningService;
let redis: Redis;

type Item = { id: number; person: string; text: string; reason: string; words: string[] };
type Msg = { from: { kind: string }; text?: string };

const api = (path: string, body?: unknown) =>
  fetch(
    `${svc.url}/console/api${path}`,
    body === undefined
      ? {}
      : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
  );
const read = async (chat: string): Promise<Msg[]> =>
  ((await (await api(`/messages?chat=${encodeURIComponent(chat)}`)).json()) as { messages: Msg[] }).messages;
const unread = async (): Promise<Item[]> => ((await (await api('/unread')).json()) as { items: Item[] }).items;

beforeAll(async () => {
  redis = redisClient();
  svc = await startService({
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_VOCABULARY: overlay,
    HOUQIN_CONFIG: testConfig((cfg) => {
      cfg.jobs = { menu: { enabled: false } };
    }),
  });
});

afterAll(async () => {
  await svc?.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('未识别 in the console', () => {
  it('asks once, lists the message with its unknown words, and a manager turns it into a task that teaches the parser', async () => {
    await api('/messages', { as: 'wang_li', chat: 'dm:wang_li', text: '摇号屏的字全糊了' });
    const ask = await until('the short question', async () =>
      (await read('dm:wang_li')).find((m) => m.from.kind === 'bot' && m.text?.includes('没太明白')),
    );
    expect(ask.text!.length).toBeLessThan(80);
    const item = await until('the unread item', async () =>
      (await unread()).find((u) => u.text === '摇号屏的字全糊了'),
    );
    expect(item).toMatchObject({ person: 'wang_li', reason: 'unread' });
    expect(item.words).toContain('摇号屏');

    // Only a manager may turn it into a report.
    const refused = await api('/unread/report', { as: 'wang_li', id: item.id, kind: 'repair', trade: '弱电' });
    expect(refused.status).toBe(403);

    const made = await api('/unread/report', {
      as: 'chen_zr',
      id: item.id,
      kind: 'repair',
      trade: '弱电',
      place: '门卫室',
      words: ['摇号屏'],
    });
    expect(made.status).toBe(200);
    const { task } = (await made.json()) as { task: number };
    expect(task).toBeGreaterThan(0);
    await until('the reporter is told', async () =>
      (await read('dm:wang_li')).find((m) => m.text?.includes(`已由陈主任登记为 #${task}`)),
    );
    expect((await unread()).some((u) => u.id === item.id)).toBe(false);
    expect(existsSync(overlay) && readFileSync(overlay, 'utf8')).toContain('摇号屏');
    // The message itself is kept as an example of what this site means by such words.
    const learned = parseYaml(readFileSync(overlay, 'utf8')) as { examples: { text: string; means: string }[] };
    expect(learned.examples).toContainEqual({ text: '摇号屏的字全糊了', means: 'report:repair', who: 'teacher' });

    // The running parser knows the word now: a report naming it gets the trade the manager chose.
    await api('/messages', { as: 'li_na', chat: 'class_xiao1', text: '小二班摇号屏坏了' });
    const ack = await until('a task for the new word', async () =>
      (await read('class_xiao1')).find((m) => m.text?.includes('已登记') && m.text.includes('小二班')),
    );
    const id = Number(/#(\d+)/.exec(ack.text!)![1]);
    const board = (await (await api('/tasks')).json()) as { tasks: { id: number; trade?: string }[] };
    expect(board.tasks.find((t) => t.id === id)?.trade).toBe('弱电');
  });

  it('a dismissed message is kept as an example of talk, not a report', async () => {
    await api('/messages', { as: 'wang_li', chat: 'dm:wang_li', text: '阿姨说的那个事回头再说吧' });
    const item = await until('the unread item', async () =>
      (await unread()).find((u) => u.text === '阿姨说的那个事回头再说吧'),
    );
    expect((await api('/unread/dismiss', { as: 'wang_li', id: item.id })).status).toBe(403);
    const r = await api('/unread/dismiss', { as: 'chen_zr', id: item.id });
    expect(await r.json()).toEqual({ ok: true });
    const learned = parseYaml(readFileSync(overlay, 'utf8')) as { examples: { text: string; means: string }[] };
    expect(learned.examples).toContainEqual({ text: '阿姨说的那个事回头再说吧', means: 'none', who: 'teacher' });
  });

  it('refuses a malformed request with a clear error', async () => {
    const r = await api('/unread/report', { as: 'chen_zr', id: 'x' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/id|kind/);
  });
});
