// The outbox's per-recipient mailboxes on real Redis, through the real Queues (BullMQ): messages that wait for a
// recipient are coalesced (identical ones once, a card superseded by a later one of the same ref not at all), the
// informational ones past the cap folded into one summary and work never, and a message held back by a rate limit
// scheduled for its own slot instead of being woken again and again. The channel is a recording stand-in; nothing of
// ours is mocked.
import type { Redis } from 'ioredis';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { type Channel, type DeliveryContext, RetryLater } from '../../src/channels/channel.js';
import { createParser } from '../../src/commands/parser.js';
import { loadSettings } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { Card, Outgoing, ReplyHandle, Target } from '../../src/domain/messages.js';
import { Outcome } from '../../src/domain/outcome.js';
import { Roster } from '../../src/domain/roster.js';
import { Dispatcher } from '../../src/domain/tasks/dispatch.js';
import { TaskService } from '../../src/domain/tasks/service.js';
import { createLogger } from '../../src/log.js';
import { Queues } from '../../src/queues/runtime.js';
import { keys } from '../../src/store/keys.js';
import { RateLimiter } from '../../src/store/rate.js';
import { SideStore } from '../../src/store/side.js';
import { TaskStore } from '../../src/store/tasks.js';
import { dropPrefix, redisClient, REDIS, testPrefix } from '../helpers/redis.js';
import { until } from '../helpers/service.js';

const log = createLogger('silent');
let redis: Redis;
let config: Config;
const open: { queues: Queues; prefix: string }[] = [];

/** A channel that records what it is asked to send; `limit` makes it keep a rate window like WeCom's. */
class Recording implements Channel {
  readonly name = 'wecom';
  sent: Outgoing[] = [];
  calls = 0;
  private limiter: RateLimiter;
  constructor(
    private prefix: string,
    private limit?: { n: number; ms: number },
  ) {
    this.limiter = new RateLimiter(redis);
  }
  reaches(to: Target): boolean {
    return to.kind !== 'clicked_card';
  }
  async deliver(out: Outgoing, ctx: DeliveryContext): Promise<void> {
    this.calls++;
    if (this.limit) {
      const wait = await this.limiter.reserve(
        `${this.prefix}:rate:x`,
        this.limit.n,
        this.limit.ms,
        `${ctx.jobId}:${ctx.attempt}`,
      );
      if (wait > 0) throw new RetryLater(wait, 'window full');
    }
    this.sent.push(out);
  }
}

beforeAll(() => {
  redis = redisClient();
  config = loadSettings({}, 'config/example.yaml').config;
});

afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.queues.close();
    await dropPrefix(redis, o.prefix);
  }
});

afterAll(() => redis.disconnect());

function setup(cap: number, limit?: { n: number; ms: number }) {
  const prefix = testPrefix('mailbox');
  const channel = new Recording(prefix, limit);
  const queues = new Queues(redis, prefix, [channel], log, keys(prefix), { recipientCap: cap });
  open.push({ queues, prefix });
  const roster = new Roster(config);
  const tasks = new TaskStore(redis, prefix);
  const start = () =>
    queues.startWorkers({
      service: new TaskService(tasks, new SideStore(redis, keys(prefix)), roster, createParser(config)),
      dispatcher: new Dispatcher(tasks, roster),
      redis: REDIS,
      concurrency: 4,
    });
  const waitingJobs = async () => {
    const c = await queues.outbox.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return c.waiting + c.delayed + c.active + c.prioritized;
  };
  const settled = () => until('the outbox to empty', async () => (await waitingJobs()) === 0, 20_000);
  return { prefix, channel, queues, start, waitingJobs, settled };
}

const handle = (n: number, sender = 'Stranger1'): ReplyHandle => ({
  channel: 'wecom',
  surface: 'app',
  chatId: sender,
  chatType: 'single',
  senderPlatformId: sender,
  envelopeId: `wecom:app:m${n}`,
});
const text = (o: Outgoing) => (o.message.type === 'text' ? o.message.text : '');
const card = (ref: string, title: string): Card => ({ ref, title, fields: [], buttons: [{ text: '接单', key: 'x' }] });

describe('mailbox: coalescing while waiting', () => {
  it('identical messages to one recipient are queued once while one waits, and again once it is sent', async () => {
    const t = setup(30);
    for (let i = 0; i < 50; i++) await t.queues.apply(new Outcome(handle(i)).inform('你还不在后勤名册里'), `m${i}`);
    expect(await t.waitingJobs()).toBe(1);
    expect(await t.queues.mailbox.stats()).toEqual({ waiting: { wecom: 1 }, coalesced: { duplicate: 49 } });
    // A different person's identical message is theirs.
    await t.queues.apply(new Outcome(handle(99, 'Stranger2')).inform('你还不在后勤名册里'), 'other');
    expect(await t.waitingJobs()).toBe(2);

    await t.start();
    await t.settled();
    expect(t.channel.sent.map(text)).toEqual(['你还不在后勤名册里', '你还不在后勤名册里']);
    expect((await t.queues.mailbox.stats()).waiting).toEqual({ wecom: 0 });
    // Sent: the next identical one is a new message.
    await t.queues.apply(new Outcome(handle(100)).inform('你还不在后勤名册里'), 'later');
    await until('the later one', () => t.channel.sent.length === 3);
  });

  it('a card superseded by a later card of the same ref for the same recipient is not sent', async () => {
    const t = setup(30);
    const to: Target = { kind: 'user', person: 'li_sf' };
    await t.queues.apply(new Outcome().send(to, { type: 'card', card: card('t5', '新报修 #5') }), 'a');
    await t.queues.apply(new Outcome().send(to, { type: 'card', card: card('t5', '#5 已被吴师傅接单') }), 'b');
    // Another task's card, and the same ref to someone else, stay.
    await t.queues.apply(new Outcome().send(to, { type: 'card', card: card('t6', '新报修 #6') }), 'c');
    await t.queues.apply(
      new Outcome().send({ kind: 'user', person: 'wu_sf' }, { type: 'card', card: card('t5', '新报修 #5') }),
      'd',
    );
    expect(await t.waitingJobs()).toBe(3); // the superseded job was removed from the outbox
    await t.start();
    await t.settled();
    const titles = t.channel.sent.map((o) => (o.message.type === 'card' ? o.message.card.title : ''));
    expect(titles.sort()).toEqual(['#5 已被吴师傅接单', '新报修 #5', '新报修 #6']);
    expect((await t.queues.mailbox.stats()).coalesced).toEqual({ superseded: 1 });
  });

  it('past the cap the oldest informational messages fold into one summary; work is never folded', async () => {
    const t = setup(5);
    const to: Target = { kind: 'user', person: 'wang_li' };
    const work = new Outcome()
      .dm('wang_li', '你报的 #7 已派给值班的李师傅。')
      .send(to, { type: 'card', card: card('t7', '#7 请验收') })
      .dm('wang_li', '⏰ #7 已完工 2 小时，请验收');
    await t.queues.apply(work, 'work');
    const infos = Array.from({ length: 20 }, (_, i) => `没看懂「第${i + 1}句」，发"帮助"看看怎么说`);
    for (const [i, s] of infos.entries()) {
      const o = new Outcome();
      o.messages.push({ to, message: { type: 'text', text: s }, info: true });
      await t.queues.apply(o, `i${i}`);
    }
    // 3 work + 1 summary + the newest informational message: the cap.
    expect(await t.waitingJobs()).toBe(5);
    expect((await t.queues.mailbox.stats()).coalesced).toEqual({ folded: 19 });
    await t.start();
    await t.settled();
    const sent = t.channel.sent.map(text);
    for (const w of ['你报的 #7 已派给值班的李师傅。', '⏰ #7 已完工 2 小时，请验收']) expect(sent).toContain(w);
    expect(t.channel.sent.some((o) => o.message.type === 'card' && o.message.card.ref === 't7')).toBe(true);
    expect(sent).toContain(infos[19]);
    const summary = sent.find((s) => s.startsWith('📮'))!;
    expect(summary).toContain('以下 19 条提示合并为一条发送');
    expect(summary).toContain('第1句');
    expect(summary).toContain('……另有 11 条');
    expect(t.channel.sent).toHaveLength(5);
  });

  it('work alone may pass the cap: nothing is folded or lost', async () => {
    const t = setup(5);
    const o = new Outcome();
    for (let i = 0; i < 12; i++) o.dm('li_sf', `📌 新报修 #${i} 请接单`);
    await t.queues.apply(o, 'many');
    expect(await t.waitingJobs()).toBe(12);
    await t.start();
    await t.settled();
    expect(t.channel.sent).toHaveLength(12);
  });

  it('applying the same outcome again queues nothing new', async () => {
    const t = setup(30);
    const o = () => new Outcome(handle(1)).inform('帮助文本');
    await t.queues.apply(o(), 'same');
    await t.queues.apply(o(), 'same');
    expect(await t.waitingJobs()).toBe(1);
    expect((await t.queues.mailbox.stats()).coalesced).toEqual({});
  });
});

describe('rate limits: a waiting message is scheduled for its slot, not polled', () => {
  it('9 messages to one member at 3 per 1.2 s: all sent, never more than 3 a window, each job woken at most twice', async () => {
    const t = setup(30, { n: 3, ms: 1200 });
    const o = new Outcome();
    for (let i = 0; i < 9; i++) o.dm('li_sf', `📌 任务 #${i}`);
    await t.queues.apply(o, 'paced');
    const at: number[] = [];
    const started = Date.now();
    await t.start();
    await until(
      'all nine',
      () => {
        while (at.length < t.channel.sent.length) at.push(Date.now() - started);
        return t.channel.sent.length === 9;
      },
      15_000,
      10,
    );
    await t.settled();
    // 3 now, 3 after one window, 3 after two.
    expect(at.slice(3).every((ms) => ms >= 1100)).toBe(true);
    expect(at.slice(6).every((ms) => ms >= 2300)).toBe(true);
    // The first three once each; the other six once to book their slot and once when it came.
    expect(t.channel.calls).toBeLessThanOrEqual(3 + 6 * 2);
  });

  it('the booking limiter on a fake clock: a slot per window place, a booked member keeps its slot', async () => {
    const lim = new RateLimiter(redis);
    const key = `${testPrefix('reserve')}:rate`;
    const t0 = 1_000_000;
    expect(await lim.reserve(key, 2, 1000, 'a', t0)).toBe(0);
    expect(await lim.reserve(key, 2, 1000, 'b', t0)).toBe(0);
    expect(await lim.reserve(key, 2, 1000, 'c', t0)).toBe(1001);
    expect(await lim.reserve(key, 2, 1000, 'd', t0)).toBe(1001);
    expect(await lim.reserve(key, 2, 1000, 'e', t0)).toBe(2002);
    // c wakes early, then on time.
    expect(await lim.reserve(key, 2, 1000, 'c', t0 + 500)).toBe(501);
    expect(await lim.reserve(key, 2, 1000, 'c', t0 + 1001)).toBe(0);
    await redis.del(key);
  });
});
