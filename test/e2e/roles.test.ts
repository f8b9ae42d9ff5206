// `houqin serve --role receiver` and `--role workers` as two processes, as a two-core host can run them: the
// receiver only takes callbacks into Redis, the workers do the rest. What the receiver takes while no workers run
// waits in Redis and is handled once they start.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aibotPost, aibotText } from '../helpers/wecom-callbacks.js';
import { dropPrefix, keysMatching, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { startService, testConfig, fastTimers, until, type RunningService } from '../helpers/service.js';
import { wecomWorld, type WecomWorld } from '../helpers/wecom-env.js';
import type { Recorded } from '../helpers/fake-wecom.js';

let world: WecomWorld;
let redis: Redis;
let env: Record<string, string>;
const running: RunningService[] = [];
const prefix = testPrefix('roles');

beforeAll(async () => {
  world = await wecomWorld();
  redis = redisClient();
  env = { ...world.env, REDIS_URL, HOUQIN_KEY_PREFIX: prefix, HOUQIN_CONFIG: testConfig((cfg) => fastTimers(cfg)) };
});

afterAll(async () => {
  for (const s of running) await s.stop();
  await world?.fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

async function start(role: string): Promise<RunningService> {
  const s = await startService({ ...env, HOUQIN_ROLE: role });
  running.push(s);
  return s;
}

async function report(url: string, content: string) {
  const responseUrl = world.fake.mintResponseUrl({ chattype: 'group' });
  const msgid = `roles-${randomBytes(4).toString('hex')}`;
  const { query, body } = aibotPost(
    world.aibot,
    aibotText({ msgid, userid: 'WangLi', content, chatid: 'wrGroupXiao1', responseUrl }),
  );
  const res = await fetch(`${url}/wecom/aibot?${query}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, responseUrl };
}

const replyTo = (url: string) => (r: Recorded) =>
  r.kind === 'response_url' && url.endsWith(r.path + '?' + new URLSearchParams(r.query).toString());

describe('receiver and workers as separate processes', () => {
  it('a receiver alone takes reports into Redis; workers started later handle them', async () => {
    const receiver = await start('receiver');
    // Logged right after the "listening" line, which may arrive in a chunk of its own.
    await until('the receiver-only line', () => receiver.logs.join('\n').includes('receiver only'), 5_000);
    const ready = await fetch(`${receiver.url}/readyz`);
    expect(ready.status).toBe(200);

    const first = await report(receiver.url, '@后勤助手 报修 小一班 水龙头漏水');
    expect(first.status).toBe(200);
    await new Promise((r) => setTimeout(r, 700));
    expect(world.fake.requests.filter(replyTo(first.responseUrl))).toHaveLength(0); // nothing handles it yet
    expect(await redis.xlen(`${prefix}:ingress`)).toBe(1);
    expect(await keysMatching(redis, `${prefix}:nonce:aibot:*`)).toHaveLength(1); // the replay check, under our prefix

    const workers = await start('workers');
    // The workers process answers health checks only.
    expect((await fetch(`${workers.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${workers.url}/wecom/aibot`)).status).toBe(404);
    expect((await fetch(`${workers.url}/console`)).status).toBe(404);

    const ack = await world.fake.waitFor(replyTo(first.responseUrl));
    const id = Number(/#(\d+)/.exec(JSON.stringify(ack.body))![1]);
    await world.fake.waitFor(
      (r) =>
        r.kind === 'message.send' &&
        r.body.msgtype === 'template_card' &&
        r.body.template_card.button_list[0].key === `claim:${id}`,
    );
    expect(await redis.xlen(`${prefix}:ingress`)).toBe(0);

    // And from then on within moments.
    const second = await report(receiver.url, '@后勤助手 保洁 午睡室 地上有水');
    expect(second.status).toBe(200);
    await world.fake.waitFor(replyTo(second.responseUrl));
  });

  it('refuses an unknown role with a message that names the choices', () => {
    const root = resolve(import.meta.dirname, '..', '..');
    const r = spawnSync(process.execPath, [join(root, 'bin', 'houqin.mjs'), 'serve', '--role', 'worker'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--role must be one of all, receiver, workers (got "worker")');
  });
});
