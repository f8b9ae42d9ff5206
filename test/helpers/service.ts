// Starts the whole service as a child process (`node bin/houqin.mjs serve`), as production runs it, and talks to
// it over HTTP. SIGKILL-able for the durability test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface RunningService {
  url: string;
  port: number;
  proc: ChildProcess;
  logs: string[];
  /** Graceful stop (SIGTERM) or a crash (SIGKILL). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Writes a copy of config/example.yaml (or another file in config/, such as example-hospital.yaml) with changes for
 * the test (e.g. short timers) and returns its path.
 */
export function testConfig(change: (cfg: Record<string, any>) => void, base = 'example.yaml'): string {
  const cfg = parse(readFileSync(join(ROOT, 'config', base), 'utf8')) as Record<string, any>;
  change(cfg);
  const dir = mkdtempSync(join(tmpdir(), 'houqin-cfg-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(cfg));
  return file;
}

/** Short timers and an on-duty list that does not depend on the weekday the test runs. */
export function fastTimers(cfg: Record<string, any>, seconds = { remind: 1, assign: 2, escalate: 3 }): void {
  const level = {
    remind: `${seconds.remind}s`,
    assign: `${seconds.assign}s`,
    escalate: `${seconds.escalate}s`,
    claimTarget: '1m',
    finishTarget: '1h',
  };
  cfg.sla = { normal: level, urgent: level, autoAccept: '2s', pendingReport: '10m' };
  for (const t of cfg.teams) delete t.onDuty;
}

export async function startService(env: Record<string, string>, timeoutMs = 20_000): Promise<RunningService> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'houqin.mjs'), 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`service did not start in ${timeoutMs} ms:\n${logs.join('\n')}`)),
      timeoutMs,
    );
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        const m = /houqin listening on port (\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolvePort(Number(m[1]));
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await exited;
    },
  };
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
