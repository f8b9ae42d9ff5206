// How noisy the machine is right now: a busy loop pinned to each core notes every gap in its own progress (the
// core was taken away: by the hypervisor, another process, an interrupt). On a quiet machine there are none over
// 1 ms; on the shared development VM there were several a second of 1–6 ms, which is the floor under any p99 the
// bench prints (the ceiling row, a bare Koa endpoint at 5 % of a core, shows it too).
import { spawn } from 'node:child_process';

export interface Stalls {
  cpu: string;
  seconds: number;
  over1ms: number;
  over2ms: number;
  over4ms: number;
  maxMs: number;
}

// The first half second is not counted: it is when V8 compiles the loop.
const loop = `
const start = performance.now() + 500, end = start + Number(process.argv[1]) * 1000;
let last = performance.now(), a = 0, b = 0, c = 0, max = 0;
for (;;) {
  const t = performance.now(), g = t - last;
  last = t;
  if (t > end) break;
  if (t < start) continue;
  if (g > 1) { a++; if (g > 2) { b++; if (g > 4) c++; } if (g > max) max = g; }
}
console.log(JSON.stringify([a, b, c, max]));`;

function probe(cpu: string, seconds: number): Promise<Stalls> {
  return new Promise((resolve, reject) => {
    const p = spawn('taskset', ['-c', cpu, process.execPath, '--single-threaded', '-e', loop, String(seconds)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.on('error', reject);
    p.on('exit', () => {
      try {
        const [over1ms, over2ms, over4ms, maxMs] = JSON.parse(out) as number[];
        resolve({ cpu, seconds, over1ms, over2ms, over4ms, maxMs });
      } catch {
        reject(new Error(`stall probe on cpu ${cpu} gave no result`));
      }
    });
  });
}

/** Both cores at once, `seconds` long. */
export function measureStalls(cpus: string[], seconds = 3): Promise<Stalls[]> {
  return Promise.all(cpus.map((c) => probe(c, seconds)));
}

export function describeStalls(s: Stalls[]): string {
  return s
    .map(
      (x) =>
        `cpu ${x.cpu}: ${(x.over1ms / x.seconds).toFixed(1)}/s over 1 ms, ${(x.over2ms / x.seconds).toFixed(1)}/s over 2 ms, ${(x.over4ms / x.seconds).toFixed(1)}/s over 4 ms, longest ${x.maxMs.toFixed(1)} ms`,
    )
    .join('; ');
}
