// CPU accounting for a run, as % of one core: the server process (/proc/<pid>/stat), Redis (INFO cpu), this
// process with its finished children (wrk), the whole machine (/proc/stat), and what is left: "other", the load
// of processes that are not ours (the machine is shared). A run with much "other" load is not a clean figure.
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { sleep } from './proc.js';

const TICK = 100; // USER_HZ

export function procTicks(pid: number | 'self', withChildren = false): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14..17: utime stime cutime cstime
    return Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
  } catch {
    return undefined;
  }
}

/** busy ticks of all CPUs together (everything but idle and iowait) */
export function machineTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]; // "cpu  user nice system idle iowait irq softirq steal …"
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

async function redisCpuSeconds(redis: Redis): Promise<number | undefined> {
  try {
    const info = await redis.info('cpu');
    const get = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? NaN);
    const s = get('used_cpu_sys') + get('used_cpu_user');
    return Number.isFinite(s) ? s : undefined;
  } catch {
    return undefined;
  }
}

export interface CpuUse {
  server?: number;
  /** the workers process of a receiver/workers split */
  workers?: number;
  redis?: number;
  /** this process and its finished children (wrk) */
  load?: number;
  machine?: number;
  /** machine − server − redis − load: other people's processes */
  other?: number;
}

export interface CpuMeter {
  stop(): Promise<CpuUse>;
}

export async function meterCpu(pid: number | undefined, redis: Redis, workersPid?: number): Promise<CpuMeter> {
  const t0 = performance.now();
  const p0 = pid ? procTicks(pid) : undefined;
  const w0 = workersPid ? procTicks(workersPid) : undefined;
  const s0 = procTicks('self', true);
  const m0 = machineTicks();
  const r0 = await redisCpuSeconds(redis);
  return {
    async stop() {
      const wall = (performance.now() - t0) / 1000;
      const p1 = pid ? procTicks(pid) : undefined;
      const w1 = workersPid ? procTicks(workersPid) : undefined;
      const s1 = procTicks('self', true);
      const m1 = machineTicks();
      const r1 = await redisCpuSeconds(redis);
      const pctTicks = (a?: number, b?: number) =>
        a !== undefined && b !== undefined ? ((b - a) / TICK / wall) * 100 : undefined;
      const use: CpuUse = {
        server: pctTicks(p0, p1),
        workers: pctTicks(w0, w1),
        redis: r0 !== undefined && r1 !== undefined ? ((r1 - r0) / wall) * 100 : undefined,
        load: pctTicks(s0, s1),
        machine: pctTicks(m0, m1),
      };
      if (use.machine !== undefined)
        use.other = Math.max(
          0,
          use.machine - (use.server ?? 0) - (use.workers ?? 0) - (use.redis ?? 0) - (use.load ?? 0),
        );
      return use;
    },
  };
}

/**
 * Waits (at most maxMs) for a second in which the whole machine is nearly idle (< thresholdPct of one core busy,
 * our idle servers included), so a run does not start in the middle of someone else's build. Returns the last
 * second's busy %. All waits together stop waiting after BENCH_QUIET_BUDGET_S (60 s).
 */
let quietBudgetMs = Number(process.env.BENCH_QUIET_BUDGET_S || 60) * 1000; // for the whole bench run

export async function waitQuiet(maxMs: number, thresholdPct = 15): Promise<number> {
  const start = Date.now();
  const end = start + Math.max(1000, Math.min(maxMs, quietBudgetMs));
  let busy = 0;
  do {
    const t0 = performance.now();
    const m0 = machineTicks();
    await sleep(1000);
    busy = ((machineTicks() - m0) / TICK / ((performance.now() - t0) / 1000)) * 100;
    if (busy < thresholdPct) break;
  } while (Date.now() < end);
  quietBudgetMs = Math.max(0, quietBudgetMs - (Date.now() - start - 1000));
  return busy;
}

let retriesLeft = Number(process.env.BENCH_RETRIES ?? 4); // repeats of disturbed runs, for the whole bench run

/** true (and one fewer left) if a disturbed run may be repeated */
export function takeRetry(): boolean {
  if (retriesLeft <= 0) return false;
  retriesLeft--;
  return true;
}
