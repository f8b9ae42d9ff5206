// The receiver's group-commit hand-off and the workers' reading of the stream, on real Redis.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/channels/envelope.js';
import { createLogger } from '../../src/log.js';
import { Handoff } from '../../src/queues/handoff.js';
import { InboxPump } from '../../src/queues/pump.js';
import { REDIS, dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';
import { until } from '../helpers/service.js';
import { textEnvelope } from '../helpers/envelopes.js';
import { startPrivateRedis } from '../helpers/private-redis.js';
import { Redis as RedisClient } from 'ioredis';

const log = createLogger('silent');
let redis: Redis;
let prefix: string;
let inbox: Queue<Envelope>;
const pumps: InboxPump[] = [];
/** What the workers' handler saw, and which ids it fails (to exercise the hand-over to the inbox queue). */
let handled: string[] = [];
let failing = new Set<string>();
const handle = async (e: Envelope) => {
  if (failing.has(e.msgId)) throw new Error(`cannot handle ${e.msgId} now`);
  handled.push(e.msgId);
};

const env = (n: number | string): Envelope => textEnvelope(`m${n}`);

beforeAll(() => {
  redis = redisClient();
});
afterAll(async () => {
  await redis.quit();
});

function setup() {
  prefix = testPrefix('handoff');
  inbox = new Queue<Envelope>('inbox', { connection: redis, prefix: `${prefix}:q` });
  handled = [];
  failing = new Set();
  return {
    stream: `${prefix}:ingress`,
    handoff: new Handoff(redis, `${prefix}:ingress`, (id) => `${prefix}:seen:${id}`),
  };
}

afterEach(async () => {
  for (const p of pumps.splice(0)) await p.stop();
  await inbox.close();
  await dropPrefix(redis, prefix);
});

function startPump(stream: string): InboxPump {
  const p = new InboxPump(REDIS, redis, stream, handle, inbox, log, { batch: 16 });
  pumps.push(p);
  return p;
}

describe('Handoff', () => {
  it('stores each message once and refuses a replayed request without writing anything', async () => {
    const { stream, handoff } = setup();
    const replay = { key: `${prefix}:nonce:aibot:sig1`, ttlMs: 600_000 };
    expect(await handoff.accept(env(1), replay)).toBe('stored');
    expect(await handoff.accept(env(2), replay)).toBe('replay');
    expect(await handoff.accept(env(3))).toBe('stored'); // no replay check (the console)
    // The platform delivers m1 again, newly signed (our 200 came late): answered, not stored twice.
    expect(await handoff.accept(env(1), { key: `${prefix}:nonce:aibot:sig2`, ttlMs: 600_000 })).toBe('duplicate');
    const entries = await redis.xrange(stream, '-', '+');
    expect(entries.map(([, f]) => (JSON.parse(f[1]) as Envelope).msgId)).toEqual(['m1', 'm3']);
    expect(await redis.pttl(replay.key)).toBeGreaterThan(590_000);
    expect(await redis.ttl(`${prefix}:seen:wecom:aibot:m1`)).toBeGreaterThan(86_000);
  });

  it('carries a burst in a few script calls, each answer for its own message', async () => {
    const { stream, handoff } = setup();
    const calls: string[][] = [];
    const monitor = await redis.duplicate().monitor();
    monitor.on('monitor', (_t: string, args: string[]) => {
      if (args[0] === 'evalsha' && args[3] === stream) calls.push(args);
    });
    // Half of the burst are replays of requests already seen.
    for (let i = 0; i < 100; i += 2) await redis.set(`${prefix}:nonce:s${i}`, '1');
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => handoff.accept(env(i), { key: `${prefix}:nonce:s${i}`, ttlMs: 60_000 })),
    );
    await new Promise((r) => setTimeout(r, 50));
    monitor.disconnect();
    expect(answers).toEqual(Array.from({ length: 100 }, (_, i) => (i % 2 === 1 ? 'stored' : 'replay')));
    expect(await redis.xlen(stream)).toBe(50);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(3); // the first goes alone; the rest waited for it and went together
    // KEYS: the stream, then two per message.
    expect(calls.reduce((n, c) => n + (Number(c[2]) - 1) / 2, 0)).toBe(100);
  });

  it('sends a message that comes while one call is out at once; with two out, the next ones wait and go together', async () => {
    // Our own Redis, paused so that calls stay in flight: the shared one must not be paused under other tests.
    const own = await startPrivateRedis();
    const conn = new RedisClient(own.url, { maxRetriesPerRequest: null });
    const monitor = await conn.duplicate().monitor();
    try {
      const sizes: number[] = [];
      monitor.on('monitor', (_t: string, args: string[]) => {
        if (args[0] === 'evalsha' && args[3] === 'ingress') sizes.push((Number(args[2]) - 1) / 2);
      });
      const h = new Handoff(conn, 'ingress', (id) => `seen:${id}`);
      await h.accept(env('warm')); // loads the script, so the calls below are plain EVALSHAs
      sizes.length = 0;
      await conn.call('CLIENT', 'PAUSE', '300', 'ALL');
      const turn = () => new Promise((r) => setImmediate(r));
      const answers = [h.accept(env('a'))];
      await turn();
      answers.push(h.accept(env('b'))); // one call out: goes at once
      await turn();
      answers.push(h.accept(env('c')), h.accept(env('d'))); // two out: wait
      await turn();
      answers.push(h.accept(env('e')));
      expect(await Promise.all(answers)).toEqual(['stored', 'stored', 'stored', 'stored', 'stored']);
      await until('three script calls in MONITOR', () => sizes.length >= 3, 2000);
      expect(sizes).toEqual([1, 1, 3]);
      expect((await conn.xrange('ingress', '-', '+')).map(([, f]) => (JSON.parse(f[1]) as Envelope).msgId)).toEqual([
        'mwarm',
        'ma',
        'mb',
        'mc',
        'md',
        'me',
      ]);
    } finally {
      monitor.disconnect();
      conn.disconnect();
      await own.stop();
    }
  });

  it('rejects when Redis refuses the write, and lets the platform retry in', async () => {
    const { stream, handoff } = setup();
    await redis.set(stream, 'not a stream'); // XADD fails with WRONGTYPE inside the script
    const replay = { key: `${prefix}:nonce:aibot:sig9`, ttlMs: 60_000 };
    await expect(handoff.accept(env(9), replay)).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.exists(replay.key, `${prefix}:seen:wecom:aibot:m9`)).toBe(0);
  });
});

describe('InboxPump', () => {
  it('handles taken messages at once and empties the stream', async () => {
    const { stream, handoff } = setup();
    for (const n of [1, 2, 3]) await handoff.accept(env(n));
    await startPump(stream).start();
    await until(
      'the three messages handled',
      async () => handled.length === 3 && (await redis.xlen(stream)) === 0,
      5000,
    );
    expect(handled.sort()).toEqual(['m1', 'm2', 'm3']);
    expect(await inbox.count()).toBe(0); // the queue is only for retries
    // Messages taken while the workers run follow within milliseconds.
    await handoff.accept(env(4));
    await until('the fourth message', async () => handled.includes('m4'), 2000);
  });

  it('rests between batches for as long as its rest hook says, and reads at once when it says 0', async () => {
    const { stream, handoff } = setup();
    await Promise.all(Array.from({ length: 48 }, (_, n) => handoff.accept(env(n))));
    const asked: number[] = [];
    const reads: number[] = [];
    let resting = true;
    const pump = new InboxPump(
      REDIS,
      redis,
      stream,
      async (e) => {
        reads.push(performance.now());
        await handle(e);
      },
      inbox,
      log,
      {
        batch: 16,
        rest: (ms) => {
          asked.push(ms);
          return resting ? 150 : 0;
        },
      },
    );
    pumps.push(pump);
    const began = performance.now();
    await pump.start();
    await until('48 messages handled', async () => handled.length === 48, 5000);
    // Three batches of 16, with two rests of 150 ms between them (the third rest comes after the last).
    expect(performance.now() - began).toBeGreaterThanOrEqual(300);
    expect(asked.length).toBeGreaterThanOrEqual(3);
    for (const ms of asked.slice(0, 3)) expect(ms).toBeGreaterThanOrEqual(0);
    // No rest: the next message is taken at once.
    resting = false;
    await new Promise((r) => setTimeout(r, 200));
    const sent = performance.now();
    await handoff.accept(env('late'));
    await until('the late message', async () => handled.includes('mlate'), 2000);
    expect(reads.at(-1)! - sent).toBeLessThan(1000);
  });

  it("handles one person's messages in the order they came, and different people's side by side", async () => {
    const { stream, handoff } = setup();
    const events: string[] = [];
    const slow = async (e: Envelope) => {
      events.push(`start ${e.msgId}`);
      // The first message of each person takes longest: handled concurrently, the later ones would overtake it.
      await new Promise((r) => setTimeout(r, e.msgId.endsWith('-0') ? 60 : 5));
      events.push(`end ${e.msgId}`);
    };
    const people = ['wang_li', 'li_na', 'zhang_min'];
    for (let i = 0; i < 4; i++)
      for (const p of people) await handoff.accept({ ...env(`${p}-${i}`), sender: { platformId: p } });
    const pump = new InboxPump(REDIS, redis, stream, slow, inbox, log, { batch: 16 });
    pumps.push(pump);
    await pump.start();
    await until(
      'all twelve handled',
      async () => events.filter((x) => x.startsWith('end')).length === 12 && (await redis.xlen(stream)) === 0,
      5000,
    );
    for (const p of people) {
      const order = events.filter((x) => x.startsWith('end') && x.includes(p)).map((x) => x.slice(4));
      expect(order).toEqual([0, 1, 2, 3].map((i) => `m${p}-${i}`));
    }
    // Side by side: every person's first message started before anyone's first one ended.
    const firstEnd = events.findIndex((x) => x.startsWith('end'));
    expect(events.slice(0, firstEnd).filter((x) => x.endsWith('-0'))).toHaveLength(3);
  });

  it('hands a message that fails to the inbox queue for its retries, and goes on with the others', async () => {
    const { stream, handoff } = setup();
    failing.add('m2');
    for (const n of [1, 2, 3]) await handoff.accept(env(n));
    await startPump(stream).start();
    await until(
      'the failed message queued',
      async () => (await inbox.getWaitingCount()) === 1 && (await redis.xlen(stream)) === 0,
      5000,
    );
    expect(handled.sort()).toEqual(['m1', 'm3']);
    const [job] = await inbox.getWaiting();
    expect(job.id).toBe('wecom_aibot_m2');
    expect(job.data).toEqual(env(2));
  });

  it('hands what a crashed worker had read to the inbox queue', async () => {
    const { stream, handoff } = setup();
    await redis.xgroup('CREATE', stream, 'workers', '0', 'MKSTREAM');
    for (const n of [1, 2]) await handoff.accept(env(n));
    // A worker that died right after reading: the entries sit in its pending list.
    await redis.xreadgroup('GROUP', 'workers', 'dead-worker', 'COUNT', 10, 'STREAMS', stream, '>');
    await redis.xclaim(
      stream,
      'workers',
      'dead-worker',
      0,
      ...(await redis.xrange(stream, '-', '+')).map(([id]) => id),
      'IDLE',
      60_000,
    );
    await startPump(stream).start();
    await until('the two reclaimed messages queued', async () => (await inbox.getWaitingCount()) === 2, 5000);
    expect(handled).toEqual([]); // not handled inline: it may be what killed the other worker
    expect(await redis.xlen(stream)).toBe(0);
    expect((await redis.xpending(stream, 'workers'))[0]).toBe(0);
  });

  it('keeps an unreadable entry aside for an operator instead of dropping or looping on it', async () => {
    const { stream, handoff } = setup();
    await redis.xadd(stream, '*', 'e', '{"not":"an envelope"}');
    await handoff.accept(env(1));
    await startPump(stream).start();
    await until(
      'the readable message handled',
      async () => handled.includes('m1') && (await redis.xlen(stream)) === 0,
      5000,
    );
    expect(await redis.lrange(`${stream}:unreadable`, 0, -1)).toEqual(['{"not":"an envelope"}']);
  });

  it('stops at once, leaving what it has not read in the stream for the next start', async () => {
    const { stream, handoff } = setup();
    const pump = startPump(stream);
    await pump.start();
    const t = Date.now();
    await pump.stop();
    expect(Date.now() - t).toBeLessThan(500); // the blocking read does not hold it up
    await handoff.accept(env(7));
    expect(await redis.xlen(stream)).toBe(1);
    await startPump(stream).start();
    await until('the message taken while stopped', async () => handled.includes('m7'), 5000);
  });
});
