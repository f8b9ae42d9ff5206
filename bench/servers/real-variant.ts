// Diagnostic variants of the real app: the same composition root as `houqin serve` (createHouqin: the same
// receiver, Redis connections, queues and workers), with one thing changed per flag:
//   noworkers  the queue workers stay off, so the request path is measured without the inbox being processed
//   notimers   the SLA timer jobs are not added (shows what the three delayed jobs per task cost)
//   count      counts Redis commands per connection and prints them at exit (BENCH_COUNTS …)
// Usage: node bin/run-ts.mjs bench/servers/real-variant.ts [noworkers] [notimers] [count]   (env as for houqin serve)
// The figure that counts is `houqin serve` itself; these explain it.
import { writeSync } from 'node:fs';
import { createHouqin } from '../../src/app.js';
import { loadSettings } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';

const flags = new Set(process.argv.slice(2).filter((a) => /^[a-z]+$/.test(a)));
const log = createLogger(process.env.LOG_LEVEL || 'info');
const settings = loadSettings(process.env, process.env.HOUQIN_CONFIG || 'config/example.yaml');
const houqin = createHouqin(settings, log);
if (flags.has('noworkers')) {
  houqin.queues.startWorkers = async () => {};
  houqin.shared.start = async () => {};
}
// ioredis reads options.enableAutoPipelining on every command, so this turns it off for the connection that the
// queues, the replay check and the scheduler share.
if (flags.has('notimers'))
  houqin.queues.timers.add = (async () => undefined) as unknown as typeof houqin.queues.timers.add;
if (flags.has('count')) {
  // Counts Redis commands by connection and name; printed (one JSON line) when the process is stopped.
  const { Redis } = await import('ioredis');
  const counts: Record<string, number> = {};
  const conns = new Map<object, string>([
    [houqin.redis, 'redis'],
    [houqin.queues.conn, 'fast'],
  ]);
  const proto = Redis.prototype as unknown as {
    sendCommand(this: object, cmd: { name: string }, ...rest: unknown[]): unknown;
  };
  const orig = proto.sendCommand;
  proto.sendCommand = function (this: object, cmd: { name: string }, ...rest: unknown[]) {
    const k = `${conns.get(this) ?? 'other'}:${cmd.name}`;
    counts[k] = (counts[k] ?? 0) + 1;
    return orig.call(this, cmd, ...rest);
  };
  process.once('SIGTERM', () => writeSync(1, `BENCH_COUNTS ${JSON.stringify(counts)}\n`));
}
log.info({ flags: [...flags] }, 'bench variant of the real app');
await houqin.start(); // logs "houqin listening on port N"
const stop = () => void houqin.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
