// wrk on its own core, fed by bench/wrk/callbacks.lua (distinct pre-generated requests, status counts,
// optional constant rate).
import { join } from 'node:path';
import { ROOT, run } from './proc.js';

export interface WrkResult {
  duration_us: number;
  requests: number;
  bytes: number;
  sent: number;
  ok200: number;
  non200: number;
  statuses: string;
  reused: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  lat_us: { mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
  late_max_ms: number;
  late_over_1ms: number;
  /** requests/s */
  rps: number;
  /** every response 200, no socket errors, no request sent twice */
  valid: boolean;
  problems: string[];
}

export interface WrkRun {
  url: string;
  file: string;
  seconds: number;
  connections: number;
  threads?: number;
  /** requests/s; 0 = closed loop, as fast as it goes */
  rate?: number;
  cpu: string;
}

export async function wrk(r: WrkRun): Promise<WrkResult> {
  const threads = r.threads ?? 1;
  const args = [
    '-c',
    r.cpu,
    'wrk',
    '-t',
    String(threads),
    '-c',
    String(r.connections),
    '-d',
    `${r.seconds}s`,
    '--timeout',
    '5s',
    '-s',
    join(ROOT, 'bench', 'wrk', 'callbacks.lua'),
    r.url,
    '--',
    String(threads),
  ];
  const out = await run(
    'taskset',
    args,
    { BENCH_FILE: r.file, BENCH_RATE: String(r.rate ?? 0) },
    (r.seconds + 60) * 1000,
  );
  const line = out.stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`wrk gave no result (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
  const res = JSON.parse(line.slice('BENCH_RESULT '.length)) as WrkResult;
  res.rps = res.requests / (res.duration_us / 1e6);
  const e = res.errors;
  const problems: string[] = [];
  if (res.non200) problems.push(`${res.non200} non-200 responses (${res.statuses})`);
  if (e.connect + e.read + e.write + e.timeout)
    problems.push(`socket errors connect=${e.connect} read=${e.read} write=${e.write} timeout=${e.timeout}`);
  if (res.reused) problems.push(`${res.reused} requests sent a second time (request file too small)`);
  if (res.ok200 !== res.requests) problems.push(`${res.requests} responses but ${res.ok200} were 200`);
  res.problems = problems;
  res.valid = problems.length === 0;
  return res;
}
