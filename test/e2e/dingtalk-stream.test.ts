// DingTalk in Stream mode end to end: the real service as child processes dialling a local Stream gateway
// (fake-dingtalk-stream.ts) mounted on the fake DingTalk API (fake-dingtalk.ts), both behind one DINGTALK_API_BASE.
// A teacher's report over Stream → reply through the sessionWebhook → the workers' messages; two instances, each
// with its own connection and messages pushed at random between them, 300 reports → 300 tasks, none twice; SIGKILL
// mid-flow with frames left unACKed, delivered again by the gateway after the restart → nothing lost, nothing twice.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DingRecorded, type FakeDingtalk, robotMessage, startFakeDingtalk } from '../helpers/fake-dingtalk.js';
import { type FakeStreamGateway, fakeStreamGateway } from '../helpers/fake-dingtalk-stream.js';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { fastTimers, type RunningService, startService, testConfig, until } from '../helpers/service.js';
import { TaskStore } from '../../src/store/tasks.js';

const APP_KEY = 'dingstreame2ekey';
const APP_SECRET = randomBytes(24).toString('base64');
const GROUP = 'cidXiao1Teachers0Grp+a2Q==';
const TEACHERS = ['02110001', '02110002', '02110003', '02110004', '02110005', '02110006'];
const PLACES = ['小一班', '小二班', '中一班', '中二班', '大一班', '大三班'];
const STAFF = { wangLi: '02110001', liSf: '03110001', wuSf: '03110002' };

let redis: Redis;
const running: RunningService[] = [];
const worlds: { gw: FakeStreamGateway; api: FakeDingtalk; prefix: string }[] = [];

beforeAll(() => {
  redis = redisClient();
});

afterAll(async () => {
  for (const s of running) await s.stop('SIGKILL');
  for (const w of worlds) {
    await w.gw.close();
    await w.api.close();
    await dropPrefix(redis, w.prefix);
  }
  redis.disconnect();
});

/** A fake DingTalk (API + Stream gateway on one host) and a config, under a fresh prefix. */
async function world(redeliverAfterMs: number) {
  const gw = fakeStreamGateway({ clientId: APP_KEY, clientSecret: APP_SECRET, redeliverAfterMs });
  const api = await startFakeDingtalk({ appKey: APP_KEY, appSecret: APP_SECRET, robotCode: APP_KEY, mounted: gw });
  const prefix = testPrefix('e2e-dt-stream');
  const config = testConfig((cfg) => {
    fastTimers(cfg, { remind: 120, assign: 240, escalate: 360 });
    cfg.sla.duplicateWindow = '0s'; // many reports of one place here, each its own task
  });
  const w = { gw, api, prefix, config };
  worlds.push(w);
  const env = (extra: Record<string, string> = {}) => ({
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: config,
    DINGTALK_APP_KEY: APP_KEY,
    DINGTALK_APP_SECRET: APP_SECRET,
    DINGTALK_MODE: 'stream',
    DINGTALK_API_BASE: api.url,
    ...extra,
  });
  const start = async (extra?: Record<string, string>) => {
    const s = await startService(env(extra));
    running.push(s);
    return s;
  };
  return { ...w, start, store: new TaskStore(redis, prefix) };
}

/** A robot message as DingTalk pushes it, with a live sessionWebhook. */
function report(api: FakeDingtalk, i: number, staffId = TEACHERS[i % TEACHERS.length], text?: string) {
  const session = api.mintSessionWebhook();
  const body = robotMessage({
    staffId,
    text: text ?? `报修 ${PLACES[i % PLACES.length]} 第${i}号插座没电`,
    conversationId: GROUP,
    robotCode: APP_KEY,
    session,
  });
  return { body, session: new URL(session.url).searchParams.get('session')! };
}

const replied = (api: FakeDingtalk, rs: { session: string }[]) =>
  rs.every((r) => api.requests.some((x) => x.kind === 'session' && x.code === '' && x.session === r.session));
const seq = async (prefix: string) => Number((await redis.get(`${prefix}:task:seq`)) ?? 0);
const textOf = (r: DingRecorded) => JSON.stringify(r.param ?? r.body);

describe('DingTalk end to end (Stream mode)', () => {
  it('a report over Stream → reply through the sessionWebhook → the workers told; no HTTP callback route', async () => {
    const w = await world(60_000);
    const svc = await w.start({ HOUQIN_ADMIN_TOKEN: 'admin-secret' });
    const ready = JSON.parse(svc.logs.find((l) => l.includes('houqin listening on port'))!);
    expect(ready.channels).toContain('DingTalk robot');
    expect(ready.dingtalkStream).toBe('connected');
    expect(w.gw.live()).toHaveLength(1);

    const r = report(w.api, 0, STAFF.wangLi, '报修 小一班 空调不制冷');
    const pushed = w.gw.push(r.body);
    await w.gw.until('the ACK', () => w.gw.acked(pushed));
    const reply = await w.api.waitFor((x) => x.kind === 'session' && x.code === '' && x.session === r.session);
    const id = Number(/#(\d+)/.exec(textOf(reply))![1]);
    expect(await w.store.get(id)).toMatchObject({ kind: 'repair', place: '小一班', reporter: 'wang_li' });
    const dms = await w.api.waitForCount(
      (x) => x.kind === 'batchSend' && x.status === 200 && textOf(x).includes(`接单 ${id}`),
      2,
    );
    expect(dms.map((d) => d.body.userIds[0]).sort()).toEqual([STAFF.liSf, STAFF.wuSf]);
    const metrics = await (
      await fetch(`${svc.url}/admin/metrics`, { headers: { authorization: 'Bearer admin-secret' } })
    ).text();
    expect(metrics).toMatch(/^houqin_dingtalk_stream_connected 1$/m);
    expect(metrics).toMatch(/^houqin_dingtalk_stream_reconnects_total 0$/m);
    // Stream mode takes nothing over HTTP.
    expect((await fetch(`${svc.url}/dingtalk/robot`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect(w.gw.violations).toEqual([]);
    expect(w.api.violations()).toEqual([]);

    // A graceful stop closes the connection and dials no more.
    await svc.stop('SIGTERM');
    expect(svc.logs.join('\n')).toContain('dingtalk stream stopped');
    await w.gw.until('closed', () => w.gw.live().length === 0);
    const n = w.gw.handshakes.length;
    await new Promise((res) => setTimeout(res, 300));
    expect(w.gw.handshakes).toHaveLength(n);
  }, 60_000);

  it('two instances, one connection each, 300 reports pushed at random (30 twice) → 300 tasks, none twice', async () => {
    const w = await world(5_000);
    const a = await w.start();
    const b = await w.start({ HOUQIN_ROLE: 'receiver' });
    // A workers-only process takes no messages, so it holds no connection.
    const workers = await w.start({ HOUQIN_ROLE: 'workers' });
    expect(workers.logs.join('\n')).not.toContain('dingtalk stream');
    expect(w.gw.live()).toHaveLength(2);
    expect(w.gw.handshakes).toHaveLength(2);

    const reports = Array.from({ length: 300 }, (_, i) => report(w.api, i));
    const pushes = reports.map((r) => w.gw.push(r.body));
    // DingTalk delivering some messages again, to whichever connection it picks.
    for (const r of reports.slice(0, 30)) pushes.push(w.gw.push(r.body));
    await w.gw.until('every push ACKed', () => pushes.every((p) => w.gw.acked(p)), 30_000);
    await until('300 tasks', async () => (await seq(w.prefix)) >= 300, 60_000);
    await new Promise((res) => setTimeout(res, 1_000));
    expect(await seq(w.prefix)).toBe(300);
    const tasks = await w.store.getMany(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(new Set(tasks.map((t) => t.text)).size).toBe(300);
    // Both connections carried a share.
    const byConn = new Map<string, number>();
    for (const ack of w.gw.acks) byConn.set(ack.conn, (byConn.get(ack.conn) ?? 0) + 1);
    expect(byConn.size).toBe(2);
    for (const n of byConn.values()) expect(n).toBeGreaterThan(50);
    // Every reporter answered, once.
    await until('every reply', () => replied(w.api, reports), 60_000);
    const replies = w.api.requests.filter((x) => x.kind === 'session' && x.code === '');
    expect(replies).toHaveLength(300);
    expect(w.gw.violations).toEqual([]);
    expect(w.api.violations()).toEqual([]);
    for (const s of [a, b, workers]) await s.stop();
  }, 150_000);

  it('SIGKILL with frames unACKed: the gateway delivers them again after the restart; nothing lost or twice', async () => {
    const w = await world(1_500);
    // One process, frozen and killed as one (the default start on two cores supervises two: e2e/supervised.test.ts).
    let svc = await w.start({ HOUQIN_PROCESSES: '1' });
    const reports = Array.from({ length: 40 }, (_, i) => report(w.api, i));
    const pushes = reports.slice(0, 20).map((r) => w.gw.push(r.body));
    await w.gw.until('the first half ACKed', () => pushes.every((p) => w.gw.acked(p)), 10_000);
    // Their replies out (a reply DingTalk took just before a kill, not yet marked sent, would go again: the
    // exception durability.test.ts describes — not what this test is about).
    await until('the first replies', () => replied(w.api, reports.slice(0, 20)), 20_000);
    await new Promise((res) => setTimeout(res, 300));
    // The process freezes mid-flow: ten frames reach its socket and get no ACK; then it is killed, and ten more
    // are pushed while nothing is connected (the gateway keeps them for the next connection).
    const old = w.gw.live()[0];
    svc.proc.kill('SIGSTOP');
    for (const r of reports.slice(20, 30)) pushes.push(w.gw.push(r.body, { conn: old }));
    await new Promise((res) => setTimeout(res, 200));
    await svc.stop('SIGKILL');
    await w.gw.until('the old socket closed', () => old.closedAt !== undefined);
    for (const r of reports.slice(30)) pushes.push(w.gw.push(r.body));
    expect(w.gw.unacked()).toHaveLength(20);

    svc = await w.start({ HOUQIN_PROCESSES: '1' });
    await w.gw.until('every push ACKed', () => pushes.every((p) => w.gw.acked(p)), 20_000);
    await until('40 tasks', async () => (await seq(w.prefix)) >= 40, 30_000);
    await new Promise((res) => setTimeout(res, 1_000));
    expect(await seq(w.prefix)).toBe(40);
    const tasks = await w.store.getMany(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(tasks.map((t) => t.text)).size).toBe(40);
    // The frames the frozen process never answered came again, to the new connection.
    expect(w.gw.deliveries()).toBeGreaterThanOrEqual(50);
    // Every reporter answered, once.
    await until('every reply', () => replied(w.api, reports), 30_000);
    await new Promise((res) => setTimeout(res, 500));
    expect(w.api.requests.filter((x) => x.kind === 'session' && x.code === '')).toHaveLength(40);
    expect(w.gw.violations).toEqual([]);
    expect(w.api.violations()).toEqual([]);
  }, 120_000);
});
