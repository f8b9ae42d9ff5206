// WeCom AI bot long-connection mode against a local gateway that speaks the protocol and checks every frame
// (test/helpers/fake-wecom-longconn.ts), with the real hand-off and the real lease in Redis behind it: subscribe,
// messages into the hand-off with their req_id, dedupe on msgid, clicks answered within 5 s, redials that back off
// instead of spinning, a disconnected_event respected, one connection among several instances and a takeover, and
// the sending side: respond on the req_id, the proactive fallback, the relay from a non-holder, the chunked upload,
// waiting (never dropping) for the connection, for a chat that has not written, and for the per-conversation limit.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RetryLater } from '../../src/channels/channel.js';
import type { Ingress } from '../../src/channels/ingress.js';
import { WecomLongconn } from '../../src/channels/wecom/longconn/index.js';
import type { KeeperTimings } from '../../src/channels/wecom/longconn/keeper.js';
import type { Card, Message } from '../../src/domain/messages.js';
import { createLogger } from '../../src/log.js';
import { capturedLogger } from '../helpers/log-lines.js';
import { Queues } from '../../src/queues/runtime.js';
import { keys } from '../../src/store/keys.js';
import { startFakeLongconn } from '../helpers/fake-wecom-longconn.js';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';

const BOT = 'aibLongconnTest01';
const SECRET = randomBytes(18).toString('base64');
const fast: Partial<KeeperTimings> = {
  leaseTtlMs: 600,
  renewEveryMs: 200,
  watchEveryMs: 100,
  backoff: { baseMs: 100, capMs: 800, floorMs: 50 },
  kickedWaitMs: 1_500,
  healthyAfterMs: 300,
  conn: { pingEveryMs: 200, silenceMs: 1_000, ackTimeoutMs: 1_000, openTimeoutMs: 1_000 },
};

let redis: Redis;
const cleanup: (() => Promise<unknown>)[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  redis = redisClient();
});
afterAll(() => redis.disconnect());
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const claimCard = (key: string): Card => ({
  ref: 't1',
  title: '报修 #1',
  fields: [{ label: '地点', value: '小一班' }],
  buttons: [{ text: '你已接单', key: `noop:${key}`, style: 'muted' }],
});

async function world(o: { secret?: string; reqIdsDieWithConnection?: boolean } = {}) {
  const fake = await startFakeLongconn({
    botId: BOT,
    secret: SECRET,
    reqIdsDieWithConnection: o.reqIdsDieWithConnection,
    maxSubscribesPer10s: 20, // the backoff is shortened here
  });
  const { log, lines } = capturedLogger();
  const prefix = testPrefix('wecom-lc');
  const queues = new Queues(redis, prefix, [], log, keys(prefix));
  const clicks: string[] = [];
  const ingress: Ingress = {
    accept: (env) => queues.accept(env),
    async click(env) {
      if ((await redis.set(`${prefix}:seen:${env.id}`, '1', 'PX', 60_000, 'NX')) !== 'OK') return undefined;
      clicks.push(env.action!.key);
      return claimCard(env.action!.key);
    },
    firstSight: async () => true,
    forget: async () => undefined,
    maxSkewMs: 300_000,
    bodyLimitBytes: 64 * 1024,
    log,
    now: () => Date.now(),
  };
  const instances: WecomLongconn[] = [];
  const instance = async (start = true) => {
    const lc = new WecomLongconn(
      { botId: BOT, secret: o.secret ?? SECRET, wsUrl: fake.url },
      redis,
      prefix,
      log,
      undefined,
      fast,
    );
    instances.push(lc);
    if (start) await lc.start(ingress);
    return lc;
  };
  cleanup.push(async () => {
    for (const i of instances) await i.stop();
    await fake.close();
    await queues.close();
    await dropPrefix(redis, prefix);
  });
  const stored = async () => (await redis.xrange(`${prefix}:ingress`, '-', '+')).map(([, f]) => JSON.parse(f[1]));
  return { fake, instance, ingress, prefix, clicks, stored, logs: () => lines };
}

let jobs = 0;
const ctx = () => ({ jobId: `job-${Date.now()}-${++jobs}`, attempt: 1 });
const md = (text: string): Message => ({ type: 'markdown', text });

describe('WeCom long connection: receiving', () => {
  it('subscribes with bot id and secret, hands messages off with their req_id, once per msgid; no secret logged', async () => {
    const w = await world();
    const lc = await w.instance();
    expect(lc.status()).toMatchObject({ state: 'connected', holder: true });
    expect(w.fake.subscribes).toEqual([expect.objectContaining({ ok: true })]);
    const sub = w.fake.frames.find((f) => f.cmd === 'aibot_subscribe')!;
    expect(sub.body).toEqual({ bot_id: BOT, secret: SECRET });

    const a = w.fake.say({ userid: 'WangLi', text: '报修 小一班 空调不制冷', chatid: 'wrXiao1' });
    w.fake.say({ userid: 'WangLi', text: '报修 小一班 空调不制冷', chatid: 'wrXiao1', msgid: a.msgid }); // again
    const b = w.fake.say({ userid: 'LiShiFu', text: '帮助' }); // single chat
    await w.fake.until('stored', () => true);
    let got: any[] = [];
    for (let i = 0; i < 100 && got.length < 2; i++) {
      await sleep(30);
      got = await w.stored();
    }
    await sleep(200);
    got = await w.stored();
    expect(got).toHaveLength(2);
    expect(got[0]).toMatchObject({
      id: `wecom:aibot:${a.msgid}`,
      surface: 'aibot',
      chat: { id: 'wrXiao1', type: 'group' },
      sender: { platformId: 'WangLi' },
      text: '报修 小一班 空调不制冷',
      replyRef: a.reqId,
    });
    expect(got[0].replyRefExpiresAt - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect(got[1]).toMatchObject({ chat: { id: 'single:LiShiFu', type: 'single' }, replyRef: b.reqId });
    expect(w.logs().join('\n')).not.toContain(SECRET);
    expect(w.fake.violations).toEqual([]);
  });

  it('a card click is answered with aibot_respond_update_msg on its req_id within 5 s; the SDK-README event_key too', async () => {
    const w = await world();
    await w.instance();
    const c = w.fake.click({ userid: 'LiShiFu', key: 'claim:7', taskId: 't7_abc', chatid: 'wrTeam' });
    const upd = await w.fake.waitFor('the update', (f) => f.cmd === 'aibot_respond_update_msg');
    expect(upd.reqId).toBe(c.reqId);
    expect(upd.at - Number(c.reqId.split('_')[1]) >= 0).toBe(true);
    expect(upd.body).toMatchObject({
      response_type: 'update_template_card',
      userids: ['LiShiFu'],
      template_card: { card_type: 'button_interaction', task_id: 't7_abc' },
    });
    expect(upd.errcode).toBe(0);
    // The event_key where the official SDK's README reads it (event.event_key), not where the doc puts it.
    w.fake.pushRaw('aibot_event_callback', {
      create_time: 1,
      aibotid: BOT,
      chattype: 'single',
      from: { userid: 'WuShiFu' },
      msgtype: 'event',
      event: { eventtype: 'template_card_event', event_key: 'claim:8', task_id: 't8_x' },
    });
    await w.fake.until('both clicks', () => w.clicks.length === 2);
    expect(w.clicks).toEqual(['claim:7', 'claim:8']);
    // enter_chat gets the welcome on its own req_id.
    const e = w.fake.enterChat('ZhangMin');
    const welcome = await w.fake.waitFor('welcome', (f) => f.cmd === 'aibot_respond_welcome_msg');
    expect(welcome.reqId).toBe(e.reqId);
    expect(welcome.body.msgtype).toBe('text');
    expect(w.fake.violations).toEqual([]);
  });

  it('a dropped connection is redialled with backoff; five drops in a row never become a spin', async () => {
    const w = await world();
    const lc = await w.instance();
    for (let i = 0; i < 5; i++) {
      await w.fake.until('live', () => w.fake.live().length === 1, 5_000);
      w.fake.drop();
      await sleep(20);
    }
    await w.fake.until('back', () => w.fake.live().length === 1, 5_000);
    expect(lc.status()).toMatchObject({ state: 'connected', reconnects: 5 });
    // Messages pushed after the last redial arrive.
    const m = w.fake.say({ userid: 'WangLi', text: '报修 大门 锁坏了', chatid: 'wrXiao1' });
    await w.fake.until('stored', () => true);
    for (let i = 0; i < 50 && !(await w.stored()).some((e) => e.msgId === m.msgid); i++) await sleep(30);
    expect((await w.stored()).map((e) => e.msgId)).toContain(m.msgid);
    expect(w.fake.violations).toEqual([]);
  });

  it('a refused secret is retried with growing, jittered waits — never a spin — and the banner says why', async () => {
    const w = await world({ secret: 'wrong-secret' });
    const lc = await w.instance();
    expect(lc.status()?.state).not.toBe('connected');
    expect(lc.status()?.lastError).toContain('subscribe refused: 40001');
    await sleep(2_500);
    // With base 100 ms and cap 800 ms: at most about a dozen in 2.5 s, and the fake counts none as a spin (≤ 5/10 s
    // would be production; here the cap is short), but never hundreds.
    expect(w.fake.subscribes.length).toBeGreaterThan(2);
    expect(w.fake.subscribes.length).toBeLessThan(25);
    expect(w.logs().join('\n')).not.toContain('wrong-secret');
  });

  it('disconnected_event (another client took the bot) waits before redialling instead of kicking back at once', async () => {
    const w = await world();
    const lc = await w.instance();
    // Someone else subscribes with the same bot (a laptop with the same credentials).
    const other = new WebSocket(w.fake.url);
    await new Promise((r) => other.once('open', r));
    other.send(
      JSON.stringify({ cmd: 'aibot_subscribe', headers: { req_id: 'x1' }, body: { bot_id: BOT, secret: SECRET } }),
    );
    await w.fake.until('ours kicked', () => w.fake.connections[0].kicked);
    const kickedAt = Date.now();
    await sleep(1_000);
    expect(w.fake.subscribes).toHaveLength(2); // nothing from us within kickedWaitMs (1.5 s here)
    expect(lc.status()?.state).toBe('connecting');
    await w.fake.until('ours back', () => w.fake.subscribes.length === 3, 5_000);
    expect(w.fake.subscribes[2].at - kickedAt).toBeGreaterThanOrEqual(1_400);
    other.terminate();
  });
});

describe('WeCom long connection: stopping', () => {
  it('stop() while a dial hangs (no subscribe ack) returns at once and leaves no socket or lease behind', async () => {
    const { WebSocketServer } = await import('ws');
    const mute = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => mute.once('listening', r));
    const sockets: WebSocket[] = [];
    mute.on('connection', (ws) => sockets.push(ws as unknown as WebSocket)); // never answers the subscribe
    const prefix = testPrefix('wecom-lc-mute');
    const log = createLogger('silent');
    const lc = new WecomLongconn(
      { botId: BOT, secret: SECRET, wsUrl: `ws://127.0.0.1:${(mute.address() as { port: number }).port}` },
      redis,
      prefix,
      log,
      undefined,
      { ...fast, conn: { ...fast.conn, openTimeoutMs: 60_000 } },
    );
    const ingress = { log, now: () => Date.now() } as unknown as Ingress;
    void lc.start(ingress);
    await sleep(300);
    expect(lc.status()?.state).toBe('connecting');
    const t = Date.now();
    await lc.stop();
    expect(Date.now() - t).toBeLessThan(1_000);
    await sleep(100);
    expect(sockets.every((ws) => ws.readyState === ws.CLOSED)).toBe(true);
    expect(await redis.exists(`${prefix}:wecom:lc:lease`)).toBe(0);
    mute.close();
    await dropPrefix(redis, prefix);
  });
});

describe('WeCom long connection: one connection among instances', () => {
  it('three instances hold one connection; the holder stops → another takes over within a lease ttl', async () => {
    const w = await world();
    const [a, b, c] = [await w.instance(), await w.instance(), await w.instance()];
    await sleep(1_000);
    expect(w.fake.live()).toHaveLength(1);
    expect(w.fake.subscribes).toHaveLength(1); // the others watch the lease; they do not fight
    const all = [a, b, c];
    const holder = all.find((x) => x.status()?.holder)!;
    expect(all.filter((x) => x.status()?.holder)).toHaveLength(1);
    expect(all.filter((x) => x.status()?.state === 'watching')).toHaveLength(2);
    const stoppedAt = Date.now();
    await holder.stop(); // releases the lease: the takeover is immediate
    await w.fake.until('a new holder', () => w.fake.live().length === 1, 5_000);
    expect(Date.now() - stoppedAt).toBeLessThan(1_500);
    expect(w.fake.subscribes).toHaveLength(2);
    expect(all.filter((x) => x !== holder && x.status()?.holder)).toHaveLength(1);
    expect(w.fake.violations).toEqual([]);
  });
});

describe('WeCom long connection: sending', () => {
  it('a reply goes on the req_id; a second reply to the same message goes into the chat; from a non-holder through the relay', async () => {
    const w = await world();
    const holder = await w.instance();
    const other = await w.instance();
    expect(other.status()?.state).toBe('watching');
    const m = w.fake.say({ userid: 'WangLi', text: '报修 小一班 空调', chatid: 'wrXiao1' });
    const route = { chatid: 'wrXiao1', chatType: 2 as const, respond: { reqId: m.reqId, until: Date.now() + 60_000 } };
    await w.fake.until('heard', () => true);
    await sleep(200); // the chat is recorded as one that wrote
    await other.sender.deliver(route, md('已报修 #1'), ctx()); // a non-holder: through the relay
    const first = await w.fake.waitFor('respond', (f) => f.cmd === 'aibot_respond_msg');
    expect(first).toMatchObject({ reqId: m.reqId, errcode: 0, body: { msgtype: 'markdown' } });
    await holder.sender.deliver(route, md('另外一句'), ctx()); // the same req_id again: proactive instead
    const second = await w.fake.waitFor('send', (f) => f.cmd === 'aibot_send_msg');
    expect(second.body).toMatchObject({ chatid: 'wrXiao1', chat_type: 2, msgtype: 'markdown' });
    // The same job again (a retry after a crash) sends nothing more.
    const job = ctx();
    await holder.sender.deliver({ chatid: 'wrXiao1', chatType: 2 }, md('一次'), job);
    await other.sender.deliver({ chatid: 'wrXiao1', chatType: 2 }, md('一次'), job);
    expect(w.fake.delivered().filter((f) => f.body.markdown?.content === '一次')).toHaveLength(1);
    expect(w.fake.violations).toEqual([]);
  });

  it('after a restart on a new connection a refused req_id falls back to a proactive message', async () => {
    const w = await world({ reqIdsDieWithConnection: true });
    const lc = await w.instance();
    const m = w.fake.say({ userid: 'LiNa', text: '报修 小二班 灯' });
    await sleep(200);
    w.fake.drop();
    await w.fake.until('redialled', () => w.fake.subscribes.length === 2 && w.fake.live().length === 1, 5_000);
    await sleep(50);
    await lc.sender.deliver(
      { chatid: 'LiNa', chatType: 1, respond: { reqId: m.reqId, until: Date.now() + 60_000 } },
      md('已报修 #2'),
      ctx(),
    );
    const tries = w.fake.frames.filter((f) => f.cmd === 'aibot_respond_msg' || f.cmd === 'aibot_send_msg');
    expect(tries.map((f) => [f.cmd, f.errcode])).toEqual([
      ['aibot_respond_msg', 846605],
      ['aibot_send_msg', 0],
    ]);
    expect(tries[1].body).toMatchObject({ chatid: 'LiNa', chat_type: 1 });
  });

  it('a picture goes through the chunked upload once, then as an image by media_id', async () => {
    const w = await world();
    const lc = await w.instance();
    w.fake.say({ userid: 'ZhouYuanZhang', text: '日报' });
    await sleep(200);
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      randomBytes(1_200_000), // three chunks of at most 512 KB
    ]);
    const image: Message = { type: 'image', png: png.toString('base64'), alt: '图表' };
    await lc.sender.deliver({ chatid: 'ZhouYuanZhang', chatType: 1 }, image, ctx());
    await lc.sender.deliver({ chatid: 'ZhouYuanZhang', chatType: 1 }, image, ctx());
    const sends = w.fake.delivered().filter((f) => f.body.msgtype === 'image');
    expect(sends).toHaveLength(2);
    expect(sends[0].body.image.media_id).toBe(sends[1].body.image.media_id);
    expect(w.fake.frames.filter((f) => f.cmd === 'aibot_upload_media_chunk')).toHaveLength(3);
    expect(w.fake.frames.filter((f) => f.cmd === 'aibot_upload_media_init')).toHaveLength(1);
    expect(w.fake.media.get(sends[0].body.image.media_id)!.equals(png)).toBe(true);
    expect(w.fake.violations).toEqual([]);
  });

  it('waits, never drops: no connection, a chat that never wrote, the 31st message in a minute', async () => {
    const w = await world();
    const idle = await w.instance(false); // a workers-only process: sends, never dials
    w.fake.say({ userid: 'HeAYi', text: '在吗' }); // waits at the fake: nobody is connected
    await sleep(300);
    const noHolder = await idle.sender
      .deliver({ chatid: 'HeAYi', chatType: 1 }, md('x'), ctx())
      .catch((e: unknown) => e);
    // The chat is not yet known to have written (nobody received its message): wait for it.
    expect(noHolder).toBeInstanceOf(RetryLater);
    expect((noHolder as RetryLater).delayMs).toBeGreaterThanOrEqual(60_000);

    const holder = await w.instance();
    await w.fake.until('delivered to the holder', () => w.fake.live().length === 1);
    await sleep(300);
    for (let i = 0; i < 30; i++) await idle.sender.deliver({ chatid: 'HeAYi', chatType: 1 }, md(`第${i}条`), ctx());
    const over = await holder.sender
      .deliver({ chatid: 'HeAYi', chatType: 1 }, md('第31条'), ctx())
      .catch((e: unknown) => e);
    expect(over).toBeInstanceOf(RetryLater);
    expect((over as RetryLater).delayMs).toBeGreaterThan(50_000);
    expect(w.fake.delivered()).toHaveLength(30);

    // The connection down: a send waits for it (RetryLater, a short wait) instead of failing.
    await holder.stop();
    const down = await idle.sender
      .deliver({ chatid: 'wrOther', chatType: 2, respond: { reqId: 'r', until: Date.now() + 1000 } }, md('y'), ctx())
      .catch((e: unknown) => e);
    expect(down).toBeInstanceOf(RetryLater);
    expect((down as RetryLater).delayMs).toBeLessThan(10_000);
    expect(w.fake.violations).toEqual([]);
  }, 40_000);
});
