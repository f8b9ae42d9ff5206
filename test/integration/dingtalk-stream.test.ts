// DingTalk Stream mode against a local gateway that speaks the protocol (test/helpers/fake-dingtalk-stream.ts), with
// the real hand-off into Redis behind it: ACK only once a message is in Redis, none when the hand-off fails, a
// redelivered message handled once (also across HTTP and Stream), ping echoed, `disconnect` → a new handshake at
// once, reconnects that back off instead of storming, dead sockets noticed, bad frames survived, and stop() leaving
// nothing behind. Timings are shortened through the client's options.
import { randomBytes } from 'node:crypto';
import { type Redis, Redis as RedisCtor } from 'ioredis';
import { WebSocket } from 'ws';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { robotRoutes } from '../../src/channels/dingtalk/receiver.js';
import { robotStream } from '../../src/channels/dingtalk/stream-receiver.js';
import type { DingtalkStream, StreamTimings } from '../../src/channels/dingtalk/stream.js';
import type { Ingress } from '../../src/channels/ingress.js';
import { capturedLogger } from '../helpers/log-lines.js';
import { Queues } from '../../src/queues/runtime.js';
import { keys } from '../../src/store/keys.js';
import { robotMessage, signedHeaders } from '../helpers/fake-dingtalk.js';
import { type FakeStreamGateway, ROBOT_TOPIC, startFakeStreamGateway } from '../helpers/fake-dingtalk-stream.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';

const APP_KEY = 'dingstreamtestkey';
const APP_SECRET = randomBytes(24).toString('base64');
const fast: Partial<StreamTimings> = {
  firstRetryMs: 50,
  maxRetryMs: 800,
  healthyAfterMs: 300,
  pingEveryMs: 100,
  silenceMs: 1_000,
  handshakeTimeoutMs: 1_000,
  drainMs: 1_000,
  stopGraceMs: 500,
};

let redis: Redis;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(() => {
  redis = redisClient();
});
afterAll(async () => {
  redis.disconnect();
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface World {
  gw: FakeStreamGateway;
  stream: DingtalkStream;
  ingress: Ingress;
  prefix: string;
  db: Redis;
  logs: () => any[];
}

/** A gateway, a client and the real hand-off (Queues, as app.ts wires it) on `db`, each test under its own prefix. */
async function world(o: { timings?: Partial<StreamTimings>; db?: Redis; redeliverAfterMs?: number } = {}) {
  const gw = await startFakeStreamGateway({
    clientId: APP_KEY,
    clientSecret: APP_SECRET,
    redeliverAfterMs: o.redeliverAfterMs ?? 400,
    disconnectCloseMs: 300,
  });
  const { log, lines } = capturedLogger();
  const db = o.db ?? redis;
  const prefix = testPrefix('dt-stream');
  const queues = new Queues(db, prefix, [], log, keys(prefix));
  const nonce = (key: string) => queues.nonceKey(key);
  // The ingress app.ts builds, over the real hand-off.
  const ingress: Ingress = {
    accept: (env, replay) => queues.accept(env, replay),
    click: async () => undefined,
    firstSight: async (key, ttlMs) => (await db.set(nonce(key), '1', 'PX', ttlMs, 'NX')) === 'OK',
    forget: async (key) => void (await db.del(nonce(key))),
    maxSkewMs: 300_000,
    bodyLimitBytes: 64 * 1024,
    log,
    now: () => Date.now(),
  };
  const stream = robotStream(
    ingress,
    { apiBase: gw.url, appKey: APP_KEY, appSecret: APP_SECRET },
    {
      timings: { ...fast, ...o.timings },
    },
  );
  cleanup.push(async () => {
    await stream.stop();
    await gw.close();
    await queues.close();
    await dropPrefix(db, prefix);
  });
  const w: World = { gw, stream, ingress, prefix, db, logs: () => lines.map((l) => JSON.parse(l)) };
  return w;
}

const message = (o: { msgId?: string; text?: string; staffId?: string } = {}) =>
  robotMessage({
    staffId: o.staffId ?? '02110001',
    text: o.text ?? `报修 小一班 灯不亮 ${randomBytes(3).toString('hex')}`,
    conversationId: 'cidStreamGroup+a==',
    robotCode: APP_KEY,
    msgId: o.msgId,
  });

const stored = async (w: World) =>
  (await w.db.xrange(`${w.prefix}:ingress`, '-', '+')).map(([, f]) => JSON.parse(f[1]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DingTalk Stream client', () => {
  it('opens with clientId, clientSecret and the robot topic, connects with the ticket, and logs no secret', async () => {
    const w = await world();
    await w.stream.start();
    expect(w.stream.status()).toMatchObject({ state: 'connected', reconnects: 0 });
    expect(w.gw.handshakes).toHaveLength(1);
    expect(w.gw.handshakes[0].body).toMatchObject({
      clientId: APP_KEY,
      clientSecret: APP_SECRET,
      subscriptions: [{ type: 'CALLBACK', topic: ROBOT_TOPIC }],
    });
    expect(w.gw.live()).toHaveLength(1);
    expect(w.gw.violations).toEqual([]);
    // The gateway holds tickets to one use, as DingTalk does: the same ticket again is refused.
    const again = new WebSocket(`${w.gw.url.replace('http', 'ws')}/connect?ticket=${w.gw.handshakes[0].ticket}`);
    const refused = await new Promise<string>((r) => again.once('error', (e) => r(e.message)));
    expect(refused).toContain('401');
    expect(w.gw.violations.splice(0)).toEqual(['connect with a ticket already used (tickets are single-use)']);
    const text = JSON.stringify(w.logs());
    expect(text).toContain('dingtalk stream connected');
    expect(text).not.toContain(APP_SECRET);
    expect(text).not.toContain(w.gw.handshakes[0].ticket);
  });

  it('ACKs a message only once it is in Redis; ACKs nothing while Redis cannot take it; handles it once', async () => {
    const priv: PrivateRedis = await startPrivateRedis();
    cleanup.push(() => priv.stop());
    const own = new RedisCtor(priv.url, { maxRetriesPerRequest: null });
    cleanup.push(async () => own.disconnect());
    const admin = new RedisCtor(priv.url);
    cleanup.push(async () => admin.disconnect());
    const w = await world({ db: own, redeliverAfterMs: 300 });
    await w.stream.start();

    // Redis holds writes for 1.2 s: the gateway delivers the message again meanwhile, and no ACK goes out.
    await admin.call('CLIENT', 'PAUSE', '1200', 'WRITE');
    const pushedAt = Date.now();
    const id = w.gw.push(message({ msgId: 'msgPaused01' }));
    await sleep(900);
    expect(w.gw.acks).toHaveLength(0);
    expect(w.gw.deliveries()).toBeGreaterThanOrEqual(3);
    await w.gw.until('the ACK', () => w.gw.acked(id), 3_000);
    expect(w.gw.acks[0].at - pushedAt).toBeGreaterThanOrEqual(1_100);
    // Every delivery is answered (the later ones as already seen); the message is stored once.
    await w.gw.until('every delivery answered', () => w.gw.acks.length === w.gw.deliveries());
    expect(w.gw.acks.every((a) => a.code === 200)).toBe(true);
    expect((await stored(w)).map((e) => e.msgId)).toEqual(['msgPaused01']);

    // Redis refuses writes (out of memory): the hand-off fails, no ACK, the error is logged, nothing is stored.
    await admin.config('SET', 'maxmemory', '1');
    const id2 = w.gw.push(message({ msgId: 'msgRefused02' }));
    await w.gw.until('a redelivery', () => w.gw.deliveries() >= w.gw.acks.length + 2, 3_000);
    expect(w.gw.acked(id2)).toBe(false);
    expect(w.logs().some((l) => l.msg.includes('not acknowledged, so DingTalk delivers it again'))).toBe(true);
    // Redis is back: the next redelivery is taken and ACKed, once.
    await admin.config('SET', 'maxmemory', '0');
    await w.gw.until('the ACK after Redis came back', () => w.gw.acked(id2), 3_000);
    expect((await stored(w)).map((e) => e.msgId)).toEqual(['msgPaused01', 'msgRefused02']);
    expect(w.gw.violations).toEqual([]);
  });

  it('handles a message DingTalk delivers twice once, whether it came over HTTP or over Stream first', async () => {
    const w = await world();
    await w.stream.start();
    const m = message({ msgId: 'msgTwice01' });
    const a = w.gw.push(m);
    const b = w.gw.push(m);
    await w.gw.until('both ACKed', () => w.gw.acked(a) && w.gw.acked(b));
    // The same message posted to the HTTP callback (a deployment switching modes) is a repeat too.
    const route = robotRoutes(w.ingress, { appSecret: APP_SECRET })[0];
    const headers = signedHeaders(APP_SECRET);
    const answer = await route.handle({
      query: new URLSearchParams(),
      ip: '127.0.0.1',
      header: (n) => headers[n],
      body: async () => JSON.stringify(m),
    });
    expect(answer.status).toBe(200);
    const http = message({ msgId: 'msgHttpFirst' });
    await route.handle({
      query: new URLSearchParams(),
      ip: '127.0.0.1',
      header: (n) => headers[n],
      body: async () => JSON.stringify(http),
    });
    const c = w.gw.push(http);
    await w.gw.until('ACKed', () => w.gw.acked(c));
    expect((await stored(w)).map((e) => e.msgId)).toEqual(['msgTwice01', 'msgHttpFirst']);
    expect(w.gw.violations).toEqual([]);
  });

  it('echoes a SYSTEM ping with the same messageId and data', async () => {
    const w = await world();
    await w.stream.start();
    expect(await w.gw.ping()).toBe(true);
    expect(await w.gw.ping()).toBe(true);
    expect(w.gw.violations).toEqual([]);
  });

  it('on a disconnect frame opens a new connection at once with a new ticket and lets the old one drain', async () => {
    const w = await world({ timings: { firstRetryMs: 400 } });
    await w.stream.start();
    await sleep(450); // open longer than firstRetryMs: a routine rotation
    const old = w.gw.live()[0];
    const asked = Date.now();
    w.gw.disconnect(old);
    await w.gw.until('a second connection', () => w.gw.live().length === 1 && w.gw.live()[0] !== old);
    const second = w.gw.handshakes[1];
    // Sooner than any backoff could (the first retry waits at least 0.8 × 400 ms).
    expect(second.at - asked).toBeLessThan(250);
    expect(second.ticket).not.toBe(w.gw.handshakes[0].ticket);
    // The old socket is closed by the gateway later; that starts no further dial.
    await w.gw.until('the old socket closed', () => old.closedAt !== undefined);
    await sleep(300);
    expect(w.gw.handshakes).toHaveLength(2);
    const id = w.gw.push(message());
    await w.gw.until('ACK on the new connection', () => w.gw.acked(id));
    expect(w.gw.acks.at(-1)!.conn).toBe(w.gw.live()[0].id);
    expect(w.stream.status()).toMatchObject({ state: 'connected', reconnects: 1 });
    expect(w.gw.violations).toEqual([]);
  });

  it('reconnects after a drop with growing delays while the gateway refuses, never in a storm', async () => {
    const w = await world();
    await w.stream.start();
    w.gw.refuse(503);
    const from = Date.now();
    w.gw.drop();
    await sleep(2_500);
    const tries = w.gw.handshakes.slice(1).map((h) => h.at);
    // 50, 100, 200, 400, 800, 800 ms (±20 %): about six in 2.5 s. The SDK's storm doubles the dials every round.
    expect(tries.length).toBeGreaterThanOrEqual(4);
    expect(tries.length).toBeLessThanOrEqual(8);
    const gaps = [tries[0] - from, ...tries.slice(1).map((t, i) => t - tries[i])];
    for (let i = 1; i < gaps.length; i++) if (gaps[i - 1] < 600) expect(gaps[i]).toBeGreaterThan(gaps[i - 1] * 1.2); // doubling until the cap
    expect(Math.max(...gaps)).toBeLessThanOrEqual(800 + 60);
    expect(w.stream.status()).toMatchObject({ state: 'connecting' });
    expect(w.stream.status().lastError).toContain('HTTP 503');

    // The gateway comes back: connected again, and once healthy for a while a new drop starts from the first delay.
    w.gw.refuse(undefined);
    await w.gw.until('connected again', () => w.gw.live().length === 1, 3_000);
    await sleep(400); // healthyAfterMs is 300
    const before = w.gw.handshakes.length;
    const dropped = Date.now();
    w.gw.drop();
    await w.gw.until('reconnected', () => w.gw.handshakes.length > before && w.gw.live().length === 1);
    expect(w.gw.handshakes[before].at - dropped).toBeLessThan(200);
    expect(w.gw.violations).toEqual([]);
    expect(w.logs().some((l) => l.msg === 'dingtalk stream could not connect; retrying')).toBe(true);
  });

  it('ends a connection whose pings go unanswered, and dials a new one', async () => {
    const w = await world();
    await w.stream.start();
    const first = w.gw.live()[0];
    w.gw.deafen(first);
    await w.gw.until('a new connection', () => w.gw.live().length === 1 && w.gw.live()[0] !== first, 2_000);
    expect(first.closedAt).toBeDefined();
    expect(w.logs().some((l) => l.reason === 'no pong to the last ping')).toBe(true);
  });

  it('ends a connection that goes silent', async () => {
    const w = await world({ timings: { silenceMs: 150 } });
    await w.stream.start();
    const first = w.gw.live()[0];
    w.gw.deafen(first);
    await w.gw.until('a new connection', () => w.gw.live().length === 1 && w.gw.live()[0] !== first, 2_000);
    expect(w.logs().some((l) => /^nothing heard for/.test(l.reason ?? ''))).toBe(true);
  });

  it('survives bad frames: logs them in English, answers what can be answered, and goes on', async () => {
    const w = await world();
    await w.stream.start();
    w.gw.sendRaw('this is not json');
    w.gw.sendRaw(JSON.stringify({ type: 'CALLBACK', data: '{}' })); // no headers
    const notJson = w.gw.push('{"msgId": broken');
    const noIds = w.gw.push({ msgtype: 'text', text: { content: 'hello' } });
    // A topic the client never subscribed to, forced onto its connection (a gateway misbehaving).
    const card = w.gw.push({ outTrackId: 'x' }, { topic: '/v1.0/card/instances/callback', conn: w.gw.live()[0] });
    const stranger = w.gw.push({ ...message(), senderStaffId: undefined }); // an external member: nobody we know
    w.gw.sendRaw(
      JSON.stringify({
        specVersion: '1.0',
        type: 'EVENT',
        headers: { messageId: 'evt-1', topic: 'chat_update_title', contentType: 'application/json' },
        data: '{}',
      }),
    );
    await w.gw.until('answers', () => [notJson, noIds, card, stranger].every((id) => w.gw.acked(id)));
    const code = (id: string) => w.gw.acks.find((a) => a.push === id)!.code;
    expect([code(notJson), code(noIds), code(card), code(stranger)]).toEqual([400, 400, 404, 200]);
    const good = w.gw.push(message({ msgId: 'msgAfterBad' }));
    await w.gw.until('the good one ACKed', () => w.gw.acked(good));
    expect((await stored(w)).map((e) => e.msgId)).toEqual(['msgAfterBad']);
    const msgs = w.logs().map((l) => l.msg);
    expect(msgs).toContain('dingtalk stream frame is not JSON; ignored');
    expect(msgs).toContain('dingtalk stream frame of an unknown shape; ignored');
    expect(msgs).toContain('dingtalk stream robot message is not a JSON object; answered 400');
    expect(msgs).toContain('dingtalk stream robot message refused; answered 400');
    expect(msgs).toContain('dingtalk stream callback on a topic we did not subscribe to; answered 404');
    expect(msgs).toContain('dingtalk stream event not subscribed to; acknowledged');
    // The EVENT's answer is not one of ours to check (the fake never sent it), hence that one violation only.
    expect(w.gw.violations).toEqual(['ACK for a messageId never sent: evt-1']);
    expect(w.stream.status().state).toBe('connected');
  });

  it('stop() closes the socket, cancels a pending retry and a handshake in flight, and leaves no timer', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    // Connected, then stopped.
    const a = await world();
    await a.stream.start();
    await a.stream.stop();
    await a.gw.until('closed', () => a.gw.connections.every((c) => c.closedAt !== undefined));
    expect(a.stream.status().state).toBe('stopped');

    // Waiting to retry, then stopped: no dial after.
    const b = await world({ timings: { firstRetryMs: 200 } });
    b.gw.refuse(503);
    await b.stream.start();
    await b.stream.stop();
    const n = b.gw.handshakes.length;
    await sleep(600);
    expect(b.gw.handshakes).toHaveLength(n);

    // Stopped while the handshake is still out: its answer opens nothing.
    const c = await world();
    c.gw.delayHandshakes(300);
    void c.stream.start(50);
    await sleep(60);
    await c.stream.stop();
    await sleep(500);
    expect(c.gw.connections).toHaveLength(0);
    expect(c.gw.violations).toEqual([]);

    // Nothing of the clients is left: close the gateways and count timers against a baseline without them.
    for (const g of [a.gw, b.gw, c.gw]) await g.close();
    await sleep(50);
    const baseline = timers();
    const d = await world();
    await d.stream.start();
    await d.stream.stop();
    await d.gw.close();
    await sleep(50);
    expect(timers()).toBeLessThanOrEqual(baseline);
  });
});
