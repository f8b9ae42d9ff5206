// Why auto-pipelining costs CPU on the connection BullMQ uses: ioredis builds a Pipeline for every auto-pipelined
// batch, and the Pipeline constructor copies every script defined on the connection (BullMQ defines 64, each
// also as …Buffer). At low concurrency every command is its own batch.
//   node bin/run-ts.mjs bench/pipeline-cost.ts
// Needs Redis (it connects so that BullMQ loads its scripts; the queue's few keys are removed at the end).
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { dropPrefix, REDIS_URL } from './lib/redis.js';

const plain = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const withScripts = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const prefix = `bench-pipeline-cost-${process.pid}`;
const q = new Queue('pipeline-cost', { connection: withScripts, prefix });
await q.waitUntilReady();
const scripts = Object.keys((withScripts as unknown as { scriptsSet: Record<string, unknown> }).scriptsSet).length;
for (const [label, conn] of [
  ['plain connection', plain],
  [`connection with BullMQ's ${scripts} scripts`, withScripts],
] as const) {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 20_000; i++) conn.pipeline();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 20_000);
  }
  console.log(`new Pipeline on a ${label}: ${best.toFixed(1)} µs`);
}
await q.close();
plain.disconnect();
withScripts.disconnect();
await dropPrefix(prefix);
