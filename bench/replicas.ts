// What waiting for a replica costs the hand-off (REDIS_WAIT_REPLICAS, issue 15): on a real Sentinel group started on
// free ports (1 master, 2 replicas, AOF on; test/helpers/redis-sentinel.ts), the receiver's group-commit hand-off
// (src/queues/handoff.ts) with no replica to wait for and with one, same run, same servers:
// - closed loop: 50 senders, each handing off a message as soon as the last was taken, for BENCH_SECONDS (5);
// - constant rate: 1 000 messages a second for BENCH_RATE_SECONDS (5); time from accept() to taken.
// Part 4 of `npm run bench` (`node bin/run-ts.mjs bench/run.ts replicas` alone). Messages are the size of a WeCom
// text envelope.
import type { Envelope } from '../src/channels/envelope.js';
import { Handoff } from '../src/queues/handoff.js';
import { connect } from '../src/store/redis.js';
import { textEnvelope } from '../test/helpers/envelopes.js';
import { startSentinel } from '../test/helpers/redis-topology.js';
import { percentile } from './lib/stats.js';

const seconds = Number(process.env.BENCH_SECONDS || 5);
const rateSeconds = Number(process.env.BENCH_RATE_SECONDS || 5);
const env = (n: string): Envelope =>
  textEnvelope(n, {
    chat: { id: 'wrGroupXiao1', type: 'group' },
    text: '谢谢李师傅！',
    responseUrl: `https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=${n.padEnd(64, 'x')}`,
    receivedAt: Date.now(),
  });

export async function benchReplicas(log: (l: string) => void): Promise<string[]> {
  log('[replicas] starting a Sentinel group');
  const group = await startSentinel();
  try {
    return await measure(group, log);
  } finally {
    await group.stop();
  }
}

async function measure(group: Awaited<ReturnType<typeof startSentinel>>, log: (l: string) => void): Promise<string[]> {
  const rows: string[] = [];
  for (const replicas of [0, 1]) {
    log(`[replicas] hand-off waiting for ${replicas} replica(s)`);
    const conn = connect(group.topology);
    conn.on('error', () => undefined);
    const stream = `bench-replicas:${replicas}:ingress`;
    const h = new Handoff(conn, stream, (id) => `${stream}:seen:${id}`, { replicas, waitMs: 200 });
    let n = 0;
    // Warm-up.
    await Promise.all(Array.from({ length: 500 }, () => h.accept(env(`w${replicas}-${n++}`))));
    // Closed loop.
    let done = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (performance.now() < end) {
          await h.accept(env(`c${replicas}-${n++}`));
          done++;
        }
      }),
    );
    const closed = done / seconds;
    // Constant rate.
    const times: number[] = [];
    const pending: Promise<void>[] = [];
    const t0 = performance.now();
    for (let k = 0; k < 1000 * rateSeconds; k++) {
      const slot = t0 + k;
      const wait = slot - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const began = performance.now();
      pending.push(h.accept(env(`r${replicas}-${n++}`)).then(() => void times.push(performance.now() - began)));
    }
    await Promise.all(pending);
    times.sort((a, b) => a - b);
    rows.push(
      `${String(replicas).padStart(8)} │ ${Math.round(closed).toString().padStart(13)} │ ${percentile(times, 50).toFixed(2).padStart(7)} │ ${percentile(times, 99).toFixed(2).padStart(7)} │ ${percentile(times, 99.9).toFixed(2).padStart(8)} │ ${h.unreplicated}`,
    );
    conn.disconnect();
  }
  return [
    '4. The hand-off on a local Sentinel group (1 master, 2 replicas, AOF): waiting for a replica (REDIS_WAIT_REPLICAS), same run',
    `   closed loop: 50 senders for ${seconds}s · constant rate: 1000/s for ${rateSeconds}s, time from accept() to taken`,
    '',
    'replicas │ closed loop/s │ p50 ms │ p99 ms │ p99.9 ms │ answered short of a replica',
    ...rows,
  ];
}
