// Child processes for the benchmark: servers pinned to one core, so the load generator (pinned to the other)
// does not steal it. Every wait is bounded.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export interface Server {
  name: string;
  port: number;
  url: string;
  proc: ChildProcess;
  /** the last log lines (bounded) */
  logs: string[];
  /** log lines at warn level or above (pino level ≥ 40) seen so far */
  warnings: () => number;
  stop(): Promise<void>;
}

/**
 * How a server runs beside the measuring instrument: `idle` = `chrt --idle 0` (SCHED_IDLE; `nice -n 19` where there
 * is no chrt): it gets the core only when nothing else wants it, and gives it back the moment anything wakes;
 * a number = `nice -n <n>`: it keeps the core for its time slice.
 */
export type Priority = 'idle' | number;
const idlePrefix: string[] =
  spawnSync('chrt', ['--version']).status === 0 ? ['chrt', '--idle', '0'] : ['nice', '-n', '19'];
export const priorityPrefix = (p: Priority): string[] => (p === 'idle' ? idlePrefix : ['nice', '-n', String(p)]);

/**
 * `taskset -c <cpu> node --v8-pool-size=1 <args…>` (under `priorityPrefix(priority)` when given); resolves when a
 * line matches /listening on port (\d+)/.
 */
export async function startServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  cpu: string,
  timeoutMs = 30_000,
  priority?: Priority,
): Promise<Server> {
  // On one core, V8's default four helper threads take turns with the JavaScript thread in 4 ms slices whenever
  // they have work (compiling, GC), and requests wait 15–55 ms; one helper is what a one-core process should have
  // (README, Operating it). Every server gets the same, so the rows stay comparable.
  const oneCore = /^\d+$/.test(cpu) ? ['--v8-pool-size=1'] : [];
  const cmd = ['taskset', '-c', cpu, process.execPath, ...oneCore, ...args];
  if (priority !== undefined) cmd.unshift(...priorityPrefix(priority));
  const proc = spawn(cmd[0], cmd.slice(1), {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let warned = 0;
  // BENCH_SERVER_LOGS=<dir>: every server's whole output also goes to <dir>/<name>.log (e.g. with --trace-gc).
  const dir = process.env.BENCH_SERVER_LOGS;
  const file = dir ? join(dir, `${name.replace(/[^\w.-]+/g, '_')}.log`) : undefined;
  const keep = (line: string) => {
    if (file) appendFileSync(file, line + '\n');
    logs.push(line);
    if (logs.length > Number(process.env.BENCH_LOG_LINES || 200)) logs.shift();
    const m = /"level":(\d+)/.exec(line);
    if (m && Number(m[1]) >= 40) warned++;
  };
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${logs.join('\n')}`));
    }, timeoutMs);
    let buf = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        keep(line);
        const m = /listening on port (\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolvePort(Number(m[1]));
        }
      }
    });
    proc.stderr!.on('data', (c: Buffer) => keep(c.toString().trimEnd()));
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? sig}) before listening:\n${logs.join('\n')}`));
    });
  });
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    proc,
    logs,
    warnings: () => warned,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs a command to completion (bounded), collecting stdout. */
export function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    p.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    p.once('exit', (code) => {
      clearTimeout(t);
      resolveRun({ code, stdout, stderr });
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
