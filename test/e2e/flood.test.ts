// A flood from one sender who is not on the roster, through the whole service (the default start, signed and
// encrypted AI-bot callbacks, the fake WeCom): every callback answered, one polite reply in all, the outbox stays at
// a handful of jobs, the sender is listed for the manager (`houqin inbox unknown`), and a teacher's real report sent
// in the middle of the flood is still answered and dispatched.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Recorded } from '../helpers/fake-wecom.js';
import { dropPrefix, REDIS_URL, redisClient, testPrefix } from '../helpers/redis.js';
import { type RunningService, startService, testConfig, until } from '../helpers/service.js';
import { aibotPost, aibotText } from '../helpers/wecom-callbacks.js';
import { type WecomWorld, wecomWorld } from '../helpers/wecom-env.js';

const FLOOD = Number(process.env.FLOOD_MESSAGES || 2000);
const ADMIN = 'flood-admin';
const ROOT = resolve(import.meta.dirname, '..', '..');

let world: WecomWorld;
let redis: Redis;
let svc: RunningService;
let outbox: Queue;
let env: Record<string, string>;
const prefix = testPrefix('flood');

beforeAll(async () => {
  world = await wecomWorld();
  redis = redisClient();
  // SLA timers far away: the only messages are the replies and the claim cards.
  env = {
    ...world.env,
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_ADMIN_TOKEN: ADMIN,
    HOUQIN_CONFIG: testConfig((cfg) => {
      for (const t of cfg.teams) delete t.onDuty;
    }),
  };
  svc = await startService(env);
  outbox = new Queue('outbox', { connection: redis, prefix: `${prefix}:q` });
});

afterAll(async () => {
  await svc?.stop();
  await outbox?.close();
  await world?.fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

async function post(userid: string, content: string) {
  const responseUrl = world.fake.mintResponseUrl({ chattype: 'group' });
  const msgid = `flood-${randomBytes(6).toString('hex')}`;
  const { query, body } = aibotPost(
    world.aibot,
    aibotText({ msgid, userid, content, chatid: 'wrGroupXiao1', responseUrl }),
  );
  const res = await fetch(`${svc.url}/wecom/aibot?${query}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  await res.arrayBuffer();
  return { status: res.status, responseUrl };
}

const replyTo = (url: string) => (r: Recorded) =>
  r.kind === 'response_url' && url.endsWith(r.path + '?' + new URLSearchParams(r.query).toString());

/** A teacher's report: ms to the reply on its response_url and to the claim card for its task. */
async function teacherReport(place: string): Promise<{ reply: number; card: number }> {
  const t0 = Date.now();
  const r = await post('WangLi', `@后勤助手 报修 ${place} 水龙头漏水`);
  expect(r.status).toBe(200);
  const ack = await world.fake.waitFor(replyTo(r.responseUrl), 30_000);
  const reply = Date.now() - t0;
  const id = Number(/#(\d+)/.exec(JSON.stringify(ack.body))![1]);
  await world.fake.waitFor(
    (x) =>
      x.kind === 'message.send' &&
      x.body.msgtype === 'template_card' &&
      x.body.template_card.button_list[0].key === `claim:${id}`,
    30_000,
  );
  return { reply, card: Date.now() - t0 };
}

async function outboxJobs(): Promise<number> {
  const c = await outbox.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
  return c.waiting + c.delayed + c.active + c.prioritized;
}

describe('a flood from one sender not on the roster', () => {
  it('one reply, a handful of outbox jobs, listed for the manager; a teacher is still answered and dispatched', async () => {
    const usual = await teacherReport('小一班');

    const stranger: string[] = [];
    let sent = 0;
    let most = 0;
    let teacher: Promise<{ reply: number; card: number }> | undefined;
    const statuses: number[] = [];
    // 40 connections' worth of callbacks, as fast as they are answered; the teacher writes half-way through.
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        while (sent < FLOOD) {
          const n = sent++;
          if (n === FLOOD / 2) teacher = teacherReport('小二班');
          const r = await post('Stranger9', `你好 在吗 第${n}条`);
          statuses.push(r.status);
          stranger.push(r.responseUrl);
          if (n % 200 === 0) most = Math.max(most, await outboxJobs());
        }
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const during = await teacher!;

    // Every message read (nothing left in the stream), then: one reply to the stranger, and the outbox small.
    await until('the flood handled', async () => (await redis.xlen(`${prefix}:ingress`)) === 0, 120_000, 200);
    const list = () => {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'houqin.mjs'), 'inbox', 'unknown', '--json'], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status).toBe(0);
      return r.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    };
    const listed = await until('every message counted', () => {
      const l = list();
      return l[0]?.count === FLOOD ? l : undefined;
    });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: 'wecom:Stranger9', platformId: 'Stranger9', count: FLOOD });
    expect(listed[0].texts).toHaveLength(5);

    await until('the outbox to settle', async () => (await outboxJobs()) === 0, 20_000);
    expect((await outbox.getJobCounts('failed')).failed).toBe(0);
    const urls = new Set(stranger);
    const replies = world.fake.requests.filter(
      (r) => r.kind === 'response_url' && [...urls].some((u) => replyTo(u)(r)),
    );
    expect(replies).toHaveLength(1);
    expect(JSON.stringify(replies[0].body)).toContain('不在后勤名册');
    // At most the stranger's one reply plus the teacher's report's own messages (reply, claim cards, team notice).
    expect(most).toBeLessThanOrEqual(10);

    // The teacher: answered and dispatched. The bound is generous (a shared test machine); the ratio is printed and
    // measured properly by `npm run bench` (bench/README.md).
    process.stderr.write(
      `[flood] teacher's report: usual reply ${usual.reply} ms, card ${usual.card} ms; during a flood of ${FLOOD}: reply ${during.reply} ms, card ${during.card} ms\n`,
    );
    expect(during.card).toBeLessThan(Math.max(10_000, usual.card * 20));

    const metrics = await (
      await fetch(`${svc.url}/admin/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
    ).text();
    expect(metrics).toMatch(/houqin_outbox_waiting\{channel="wecom"\} 0/);
    expect(metrics).toContain('# TYPE houqin_outbox_coalesced_total counter');
  });
});
