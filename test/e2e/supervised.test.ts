// The default `houqin serve` with two processes (HOUQIN_PROCESSES=2, what a host with two or more cores gets): the
// supervisor forks a receiver and a workers process. Callbacks are answered while the workers process is frozen
// (SIGSTOP: a worker stuck in a backlog), and what came in meanwhile is handled once it runs again; a killed workers
// process is restarted; SIGTERM to the supervisor stops both.
import { randomBytes } from 'node:crypto';
import { getPriority } from 'node:os';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Recorded } from '../helpers/fake-wecom.js';
import { dropPrefix, REDIS_URL, redisClient, testPrefix } from '../helpers/redis.js';
import { fastTimers, type RunningService, startService, testConfig, until } from '../helpers/service.js';
import { aibotPost, aibotText } from '../helpers/wecom-callbacks.js';
import { type WecomWorld, wecomWorld } from '../helpers/wecom-env.js';

let world: WecomWorld;
let redis: Redis;
let svc: RunningService;
const prefix = testPrefix('supervised');

beforeAll(async () => {
  world = await wecomWorld();
  redis = redisClient();
  svc = await startService({
    ...world.env,
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: testConfig((cfg) => fastTimers(cfg)),
    HOUQIN_PROCESSES: '2',
  });
});

afterAll(async () => {
  await svc?.stop('SIGKILL');
  await world?.fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** The children's pids from the supervisor's "listening" line, or a later "restarted" line. */
function pids(): { receiver: number; workers: number } {
  const lines = svc.logs.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{'));
  const listening = JSON.parse(lines.find((l) => l.includes('houqin listening on port'))!);
  let workers = listening.workers as number;
  for (const l of lines) if (l.includes('workers process restarted and ready')) workers = JSON.parse(l).pid;
  return { receiver: listening.receiver, workers };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function report(content: string) {
  const responseUrl = world.fake.mintResponseUrl({ chattype: 'group' });
  const msgid = `sup-${randomBytes(4).toString('hex')}`;
  const { query, body } = aibotPost(
    world.aibot,
    aibotText({ msgid, userid: 'WangLi', content, chatid: 'wrGroupXiao1', responseUrl }),
  );
  const t0 = Date.now();
  const res = await fetch(`${svc.url}/wecom/aibot?${query}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, ms: Date.now() - t0, responseUrl };
}

const replyTo = (url: string) => (r: Recorded) =>
  r.kind === 'response_url' && url.endsWith(r.path + '?' + new URLSearchParams(r.query).toString());

describe('supervised receiver and workers (the default on two cores)', () => {
  it('runs two children, the workers at a lower priority, and is ready once both are', async () => {
    const { receiver, workers } = pids();
    expect(alive(receiver) && alive(workers)).toBe(true);
    expect(getPriority(workers)).toBe(10);
    expect(getPriority(receiver)).toBe(0);
    const ready = await fetch(`${svc.url}/readyz`);
    expect(await ready.json()).toEqual({ ok: true, redis: true, workers: true });
  });

  it('answers callbacks while the workers process is frozen, and handles them when it runs again', async () => {
    const { workers } = pids();
    process.kill(workers, 'SIGSTOP');
    try {
      const sent = [];
      for (let i = 0; i < 20; i++) sent.push(await report(`@后勤助手 报修 小一班 第${i}个灯不亮`));
      expect(sent.map((s) => s.status)).toEqual(sent.map(() => 200));
      // Answered at once, though nothing behind the receiver moves (a generous bound for a shared test machine).
      expect(Math.max(...sent.map((s) => s.ms))).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 300));
      expect(world.fake.requests.filter(replyTo(sent[0].responseUrl))).toHaveLength(0);
      process.kill(workers, 'SIGCONT');
      for (const s of sent) await world.fake.waitFor(replyTo(s.responseUrl), 15_000);
    } finally {
      process.kill(workers, 'SIGCONT');
    }
  });

  it('restarts a killed workers process, which then handles messages', async () => {
    const before = pids().workers;
    process.kill(before, 'SIGKILL');
    const after = await until(
      'a new workers process',
      () => {
        const w = pids().workers;
        return w !== before ? w : undefined;
      },
      20_000,
    );
    expect(alive(after)).toBe(true);
    expect(getPriority(after)).toBe(10);
    expect(svc.logs.join('\n')).toContain('workers process exited; restarting it');
    const r = await report('@后勤助手 保洁 午睡室 地上有水');
    expect(r.status).toBe(200);
    await world.fake.waitFor(replyTo(r.responseUrl), 15_000);
  });

  it('SIGTERM to the supervisor stops both children and exits 0', async () => {
    const { receiver, workers } = pids();
    const exited = new Promise<number | null>((r) => svc.proc.once('exit', (code) => r(code)));
    svc.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(alive(receiver)).toBe(false);
    expect(alive(workers)).toBe(false);
  });
});
