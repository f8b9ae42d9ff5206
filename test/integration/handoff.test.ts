// The receiver's group-commit hand-off and the pump that feeds the inbox queue, on real Redis.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/channels/envelope.js';
import { createLogger } from '../../src/log.js';
import { Handoff } from '../../src/queues/handoff.js';
import { InboxPump } from '../../src/queues/pump.js';
import { REDIS_URL, dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';
import { until } from '../helpers/service.js';

const log = createLogger('silent');
let redis: Redis;
let prefix: string;
let inbox: Queue<Envelope>;
const pumps: InboxPump[] = [];

const env = (n: number | string): Envelope => ({
  id: `wecom:aibot:m${n}`, channel: 'wecom', surface: 'aibot', msgId: `m${n}`,
  chat: { id: 'c1', type: 'group' }, sender: { platformId: 'wang_li' }, text: `报修 小一班 灯不亮 ${n}`, receivedAt: 1,
});

beforeAll(() => {
  redis = redisClient();
});
afterAll(async () => {
  await redis.quit();
});

function setup() {
  prefix = testPrefix('handoff');
  inbox = new Queue<Envelope>('inbox', { connection: redis, prefix: `${prefix}:q` });
  return { stream: `${prefix}:ingress`, handoff: new Handoff(redis, `${prefix}:ingress`) };
}

afterEach(async () => {
  for (const p of pumps.splice(0)) await p.stop();
  await inbox.close();
  await dropPrefix(redis, prefix);
});

function startPump(stream: string): InboxPump {
  const p = new InboxPump(REDIS_URL, redis, stream, inbox, log);
  pumps.push(p);
  return p;
}

describe('Handoff', () => {
  it('stores each message once and refuses a replayed request without writing anything', async () => {
    const { stream, handoff } = setup();
    const replay = { key: `${prefix}:nonce:aibot:sig1`, ttlMs: 600_000 };
    expect(await handoff.accept(env(1), replay)).toBe(true);
    expect(await handoff.accept(env(2), replay)).toBe(false);
    expect(await handoff.accept(env(3))).toBe(true); // no replay check (the console)
    const entries = await redis.xrange(stream, '-', '+');
    expect(entries.map(([, f]) => (JSON.parse(f[1]) as Envelope).msgId)).toEqual(['m1', 'm3']);
    expect(await redis.pttl(replay.key)).toBeGreaterThan(590_000);
  });

  it('carries a burst in a few script calls, each answer for its own message', async () => {
    const { stream, handoff } = setup();
    const calls: string[][] = [];
    const monitor = await redis.duplicate().monitor();
    monitor.on('monitor', (_t: string, args: string[]) => {
      if (args[0] === 'evalsha' && args[2] === '1' && args[3] === stream) calls.push(args);
    });
    // Half of the burst are replays of requests already seen.
    for (let i = 0; i < 100; i += 2) await redis.set(`${prefix}:nonce:s${i}`, '1');
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => handoff.accept(env(i), { key: `${prefix}:nonce:s${i}`, ttlMs: 60_000 })));
    await new Promise((r) => setTimeout(r, 50));
    monitor.disconnect();
    expect(answers).toEqual(Array.from({ length: 100 }, (_, i) => i % 2 === 1));
    expect(await redis.xlen(stream)).toBe(50);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(3); // the first goes alone; the rest waited for it and went together
    expect(calls.reduce((n, c) => n + (c.length - 4) / 3, 0)).toBe(100);
  });

  it('rejects when Redis refuses the write, and lets the platform retry in', async () => {
    const { stream, handoff } = setup();
    await redis.set(stream, 'not a stream'); // XADD fails with WRONGTYPE inside the script
    const replay = { key: `${prefix}:nonce:aibot:sig9`, ttlMs: 60_000 };
    await expect(handoff.accept(env(9), replay)).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.exists(replay.key)).toBe(0);
  });
});

describe('InboxPump', () => {
  it('moves taken messages into the inbox queue with the message id as job id, and empties the stream', async () => {
    const { stream, handoff } = setup();
    for (const n of [1, 2, 3]) await handoff.accept(env(n));
    await handoff.accept(env(2)); // a platform retry of m2 with a new signature
    await startPump(stream).start();
    await until('the three messages in the inbox', async () => (await inbox.getWaitingCount()) === 3 && (await redis.xlen(stream)) === 0, 5000);
    const jobs = await inbox.getWaiting();
    expect(jobs.map((j) => j.id).sort()).toEqual(['wecom_aibot_m1', 'wecom_aibot_m2', 'wecom_aibot_m3']);
    expect(jobs.find((j) => j.id === 'wecom_aibot_m1')!.data).toEqual(env(1));
    // Messages taken while the pump runs follow within milliseconds.
    await handoff.accept(env(4));
    await until('the fourth message', async () => (await inbox.getWaitingCount()) === 4, 2000);
  });

  it('takes over what a crashed pump had read but not moved', async () => {
    const { stream, handoff } = setup();
    await redis.xgroup('CREATE', stream, 'pump', '0', 'MKSTREAM');
    for (const n of [1, 2]) await handoff.accept(env(n));
    // A pump that died right after reading: the entries sit in its pending list.
    await redis.xreadgroup('GROUP', 'pump', 'dead-pump', 'COUNT', 10, 'STREAMS', stream, '>');
    await redis.xclaim(stream, 'pump', 'dead-pump', 0, ...(await redis.xrange(stream, '-', '+')).map(([id]) => id), 'IDLE', 60_000);
    await startPump(stream).start();
    await until('the two reclaimed messages', async () => (await inbox.getWaitingCount()) === 2, 5000);
    expect(await redis.xlen(stream)).toBe(0);
    expect((await redis.xpending(stream, 'pump'))[0]).toBe(0);
  });

  it('keeps an unreadable entry aside for an operator instead of dropping or looping on it', async () => {
    const { stream, handoff } = setup();
    await redis.xadd(stream, '*', 'e', '{"not":"an envelope"}');
    await handoff.accept(env(1));
    await startPump(stream).start();
    await until('the readable message', async () => (await inbox.getWaitingCount()) === 1 && (await redis.xlen(stream)) === 0, 5000);
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
    await until('the message taken while stopped', async () => (await inbox.getWaitingCount()) === 1, 5000);
  });
});
