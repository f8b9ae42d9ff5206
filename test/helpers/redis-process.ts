// redis-server processes of a test's own (never the shared one at 6379): free ports, a temp folder each with AOF on,
// a short command to any of them, and a clean-up that runs even when the test fails or the worker exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisProcess {
  port: number;
  dir: string;
  proc: ChildProcess;
}

const alive = new Set<RedisProcess>();
const folders = new Set<string>();
// A crashed or interrupted run must not leave servers behind: kill what is left when the test process goes.
process.once('exit', () => {
  for (const p of alive) p.proc.kill('SIGKILL');
  for (const d of folders) rmSync(d, { recursive: true, force: true });
});

async function free(port: number): Promise<boolean> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * Free ports from 20000–29999, where the cluster bus (port + 10000) is also free; never 6379. Random, so two test
 * files starting servers at once rarely meet, and redis-server's own bind error catches the rest.
 */
export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if (out.includes(port) || !(await free(port)) || !(await free(port + 10000))) continue;
    out.push(port);
  }
  return out;
}

/**
 * Starts redis-server (a sentinel with `--sentinel` in args) and waits for PING. `config` is written to a file in the
 * server's folder first: a sentinel must have a config file of its own, which it rewrites.
 */
export async function startRedis(port: number, args: string[], config?: string): Promise<RedisProcess> {
  const dir = mkdtempSync(join(tmpdir(), `houqin-topo-${port}-`));
  folders.add(dir);
  const configFile = config === undefined ? undefined : join(dir, 'redis.conf');
  if (configFile) writeFileSync(configFile, config!);
  const base = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  const data = args.includes('--sentinel') ? [] : ['--appendonly', 'yes'];
  const proc = spawn('redis-server', [...(configFile ? [configFile] : []), ...base, ...data, ...args], {
    stdio: 'ignore',
  });
  const p = { port, dir, proc };
  alive.add(p);
  proc.once('exit', () => alive.delete(p));
  for (let i = 0; ; i++) {
    try {
      if ((await ask(port, 'PING')) === 'PONG') return p;
    } catch (e) {
      if (i >= 100 || proc.exitCode !== null)
        throw new Error(`redis-server on port ${port} did not start: ${(e as Error).message}`);
    }
    await sleep(50);
  }
}

/** One command on a fresh connection that never retries: for set-up and for watching a failover. */
export async function ask(port: number, ...args: (string | number)[]): Promise<unknown> {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    protocol: 2, // plain arrays from CLUSTER SLOTS, SENTINEL … whatever the server speaks
  });
  r.on('error', () => undefined); // the rejected call carries it
  try {
    await r.connect();
    return await r.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    r.disconnect();
  }
}

export async function kill(p: RedisProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  const exited = new Promise((r) => p.proc.once('exit', r));
  p.proc.kill(signal);
  await exited;
}

/** Kills every server in the list (no goodbyes needed: their data is thrown away) and deletes their folders. */
export async function removeAll(list: RedisProcess[]): Promise<void> {
  await Promise.all(list.map((p) => kill(p)));
  for (const p of list) {
    rmSync(p.dir, { recursive: true, force: true });
    folders.delete(p.dir);
  }
}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`,
      );
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
