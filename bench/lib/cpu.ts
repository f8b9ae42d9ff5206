// CPU used by a process (from /proc) and by Redis (INFO cpu) over an interval, as % of one core.
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const TICK = 100; // USER_HZ on Linux

function procTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
  } catch {
    return undefined;
  }
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

export interface CpuMeter {
  /** % of one core since start, for the process and for Redis (undefined if unreadable) */
  stop(): Promise<{ server?: number; redis?: number }>;
}

export async function meterCpu(pid: number | undefined, redis: Redis): Promise<CpuMeter> {
  const t0 = performance.now();
  const p0 = pid ? procTicks(pid) : undefined;
  const r0 = await redisCpuSeconds(redis);
  return {
    async stop() {
      const wall = (performance.now() - t0) / 1000;
      const p1 = pid ? procTicks(pid) : undefined;
      const r1 = await redisCpuSeconds(redis);
      return {
        server: p0 !== undefined && p1 !== undefined ? ((p1 - p0) / TICK / wall) * 100 : undefined,
        redis: r0 !== undefined && r1 !== undefined ? ((r1 - r0) / wall) * 100 : undefined,
      };
    },
  };
}
