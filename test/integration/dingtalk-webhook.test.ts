// A group reached only through its custom robot, through the real outbox (BullMQ on Redis) and the local DingTalk
// stand-in, which checks each request's signature and timestamp and refuses a robot's 21st message in a window with
// DingTalk's 130101. The window is 2 s here instead of a minute (the sender's pace is shortened to match), so a burst
// of 60 messages plays out in seconds: nothing dropped, never more than 20 in a window, the overflow merged.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { DingtalkChannel } from '../../src/channels/dingtalk/sender.js';
import type { PaceOptions } from '../../src/channels/dingtalk/pace.js';
import { NO_PICTURES } from '../../src/channels/dingtalk/robots.js';
import { loadSettings, type DingtalkSettings } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createParser } from '../../src/commands/parser.js';
import { Roster } from '../../src/domain/roster.js';
import { Outcome } from '../../src/domain/outcome.js';
import { Dispatcher } from '../../src/domain/tasks/dispatch.js';
import { TaskService } from '../../src/domain/tasks/service.js';
import { createLogger } from '../../src/log.js';
import { Queues } from '../../src/queues/runtime.js';
import { keys } from '../../src/store/keys.js';
import { SideStore } from '../../src/store/side.js';
import { TaskStore } from '../../src/store/tasks.js';
import { ROBOT_LIMIT, startFakeDingtalk, type DingRecorded, type FakeDingtalk } from '../helpers/fake-dingtalk.js';
import { dropPrefix, redisClient, REDIS, testPrefix } from '../helpers/redis.js';
import { until } from '../helpers/service.js';

const WINDOW_MS = 2000; // the stand-in's "minute"
const pace: PaceOptions = { perWindow: 18, windowMs: 2400, maxBytes: 15_000, claimMs: 3000 };
const TOKEN = 'a1b2c3d4e5f6shuidian';
const SECRET = 'SECd41d8cd98f00b204e9800998ecf8427e0123456789abcdef0123456789ab';
const APP = { appKey: 'dingappkey', appSecret: 'appsecret', robotCode: 'dingrobot' };

let fake: FakeDingtalk;
let redis: Redis;
let queues: Queues;
let other: Queues; // a second instance on the same Redis: the window is theirs together
let config: Config;
const prefix = testPrefix('dtrobot');
const logs: string[] = [];

/** Accepted custom-robot sends, and the words each carried. */
const accepted = () => fake.requests.filter((r) => r.kind === 'robotSend' && r.code === '');
const words = (r: DingRecorded): string => r.body.text?.content ?? r.body.markdown?.text ?? '';

/** The most sends the stand-in accepted within any window of its length. */
function busiestWindow(sends: DingRecorded[]): number {
  const at = sends.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i] - at[j] >= WINDOW_MS) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

async function settled(): Promise<{ failed: number }> {
  return until(
    'the outbox to settle',
    async () => {
      const c = await queues.outbox.getJobCounts('waiting', 'active', 'delayed', 'failed');
      return c.waiting + c.active + c.delayed === 0 ? { failed: c.failed } : undefined;
    },
    20_000,
  );
}

beforeAll(async () => {
  fake = await startFakeDingtalk({
    ...APP,
    robots: [{ token: TOKEN, secret: SECRET }],
    robotWindowMs: WINDOW_MS,
  });
  redis = redisClient();
  config = loadSettings({}, 'config/example.yaml').config;
  const team = config.chats.find((c) => c.id === 'team_shuidian')!;
  team.dingtalk = { webhook: fake.robotWebhook(TOKEN), secret: SECRET }; // a group only a custom robot is in
  const manager = config.chats.find((c) => c.id === 'manager')!;
  manager.dingtalk = { ...manager.dingtalk, webhook: fake.robotWebhook(TOKEN), secret: SECRET }; // both ways in
  const roster = new Roster(config);
  const out = new PassThrough();
  out.on('data', (b: Buffer) => logs.push(...b.toString().split('\n').filter(Boolean)));
  const log = createLogger('info', out);
  const settings: DingtalkSettings = { ...APP, apiBase: fake.url, oapiBase: fake.url, mode: 'http' };
  const instance = async () => {
    const channel = new DingtalkChannel(settings, roster, redis, keys(prefix), log, { pace });
    const q = new Queues(redis, prefix, [channel], log, keys(prefix));
    const tasks = new TaskStore(redis, prefix);
    await q.startWorkers({
      service: new TaskService(tasks, new SideStore(redis, keys(prefix)), roster, createParser(config)),
      dispatcher: new Dispatcher(tasks, roster),
      redis: REDIS,
      concurrency: 8,
    });
    return q;
  };
  queues = await instance();
  other = await instance();
});

afterAll(async () => {
  await other?.close();
  await queues?.close();
  await fake?.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('custom robot webhooks through the outbox', () => {
  it('60 messages at once, two instances sending: all arrive, signed, at most 20 a window, the overflow merged', async () => {
    const o = new Outcome();
    const texts = Array.from({ length: 60 }, (_, i) => `第${i + 1}条 3楼饮水机`);
    for (const text of texts) o.send({ kind: 'chat', chat: 'team_shuidian' }, { type: 'text', text });
    const start = Date.now();
    await queues.apply(o, 'burst');
    expect(await settled()).toEqual({ failed: 0 });
    const sends = accepted();
    // Every message exactly once, in the words DingTalk got.
    const seen = texts.map((t) => sends.filter((r) => new RegExp(`${t}(?!\\d)`).test(words(r))).length);
    expect(seen).toEqual(texts.map(() => 1));
    expect(fake.requests.filter((r) => r.kind === 'robotSend' && r.code !== '')).toEqual([]); // never "too fast"
    expect(busiestWindow(sends)).toBeLessThanOrEqual(ROBOT_LIMIT);
    // 18 went at once; the other 42 waited for the window to open and went merged, as markdown.
    expect(sends.length).toBeLessThan(25);
    const merged = sends.filter((r) => r.body.msgtype === 'markdown');
    expect(merged.length).toBeGreaterThan(0);
    expect(merged.reduce((n, r) => n + (words(r).match(/第\d+条/g) ?? []).length, 0)).toBe(
      60 - (sends.length - merged.length),
    );
    expect(merged[0].at - start).toBeGreaterThanOrEqual(pace.windowMs - 200);
    expect(fake.violations()).toEqual([]);
    // Each request was signed with a fresh timestamp, sign URL-encoded once.
    for (const r of sends) expect(r.query).toMatch(/^access_token=\w+&timestamp=\d{13}&sign=[A-Za-z0-9%]+$/);
    expect(sends.some((r) => /%2B|%2F|%3D/.test(r.query!))).toBe(true);
  });

  it('a group with both a conversationId and a custom robot gets the robot API', async () => {
    const before = accepted().length;
    const o = new Outcome().send({ kind: 'chat', chat: 'manager' }, { type: 'text', text: '经理群通知' });
    await queues.apply(o, 'both');
    const g = await fake.waitFor((r) => r.kind === 'groupSend' && r.param?.content === '经理群通知');
    expect(g.body.openConversationId).toBe('cidManager0Houqin0Office+g8A==');
    expect(accepted().length).toBe(before);
  });

  it('DingTalk saying "too fast" anyway (another sender on the robot) makes the message wait for the window', async () => {
    await new Promise((r) => setTimeout(r, pace.windowMs)); // the burst's window has passed
    fake.failNext('robotSend', 200, '130101');
    const o = new Outcome().send({ kind: 'chat', chat: 'team_shuidian' }, { type: 'text', text: '限流之后' });
    await queues.apply(o, 'slow');
    const refused = await fake.waitFor((r) => r.kind === 'robotSend' && r.code === '130101');
    const sent = await fake.waitFor(
      (r) => r.kind === 'robotSend' && r.code === '' && words(r).includes('限流之后'),
      8000,
    );
    expect(sent.at - refused.at).toBeGreaterThanOrEqual(pace.windowMs - 50);
    expect(await settled()).toEqual({ failed: 0 });
    expect(logs.some((l) => l.includes('sends too fast'))).toBe(true);
  });

  it('a refusal that will not change is kept for replay; no log line holds the token or the secret', async () => {
    fake.failNext('robotSend', 200, '310000');
    const o = new Outcome().send({ kind: 'chat', chat: 'team_shuidian' }, { type: 'text', text: '签名不对' });
    await queues.apply(o, 'bad');
    expect(await settled()).toEqual({ failed: 1 });
    const [failed] = await queues.failedOutbox();
    expect(failed.reason).toContain('310000');
    expect(failed.reason).not.toContain(TOKEN);
    expect(await queues.replayOutbox([failed.id])).toBe(1);
    await fake.waitFor((r) => r.kind === 'robotSend' && r.code === '' && words(r).includes('签名不对'));
    expect(await settled()).toEqual({ failed: 0 });
    const all = logs.join('\n');
    expect(all).toContain('job failed');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(SECRET);
  });

  it('a picture for a custom robot goes as its words and says why', async () => {
    const o = new Outcome().send(
      { kind: 'chat', chat: 'team_shuidian' },
      { type: 'photo', photo: 'a'.repeat(64), alt: '#12 现场照片' },
    );
    await queues.apply(o, 'pic');
    const r = await fake.waitFor((x) => x.kind === 'robotSend' && words(x).includes('#12 现场照片'));
    expect(r.body.msgtype).toBe('markdown');
    expect(words(r)).toContain(NO_PICTURES);
  });
});
