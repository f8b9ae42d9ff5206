// The default `npm start` on a host with two or more cores: the receiver and the workers as two processes that this
// one supervises. Why: in one process a worker backlog (a burst of 100 000 messages to get through) shares the event
// loop with the callbacks, and their answers wait behind it — p99 100 ms at 2 000 callbacks/s after a burst, against
// 9 ms for a receiver alone (issue 14). As two processes the kernel schedules them apart, and the workers run at a
// lower priority (nice 10), so a busy worker gives the core back to the receiver when a callback comes.
//
// The supervisor does nothing else: it forks both (`serve --role receiver|workers`, marked supervised), restarts one
// that exits with a backoff, passes SIGTERM/SIGINT on and waits for both to drain, and exits when they have. When
// it dies without that (SIGKILL), the children notice their IPC channel close and stop on their own.
// On one core two processes would only take turns on it: one process (cli/serve.ts). HOUQIN_PROCESSES=1 forces one.
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism, setPriority } from 'node:os';
import type { Started } from '../app.js';
import type { Env } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';

/** The workers' niceness: below the receiver, above nothing else in particular (bench/README.md). */
export const WORKERS_NICE = 10;
/** A child that ran this long before exiting restarts at once; a crash loop backs off up to 30 s. */
const STABLE_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;
/** How long a graceful stop may take before the children are killed. */
const STOP_MS = 30_000;

/** Messages between the supervisor and its children. */
export type ChildMessage = { type: 'ready'; started: Started };
export type ParentMessage = { type: 'workers'; up: boolean };

/** How many processes `houqin serve` without --role runs: HOUQIN_PROCESSES (1 or 2), else by the host's cores. */
export function processCount(env: Env, cores = availableParallelism()): 1 | 2 {
  const v = env.HOUQIN_PROCESSES;
  if (v === undefined || v === '' || v === 'auto') return cores >= 2 ? 2 : 1;
  if (v === '1' || v === '2') return Number(v) as 1 | 2;
  throw new ConfigError(`HOUQIN_PROCESSES must be 1, 2 or auto (got "${v}")`);
}

type Role = 'receiver' | 'workers';

interface Child {
  role: Role;
  proc?: ChildProcess;
  ready: boolean;
  startedAt: number;
  failures: number;
  timer?: NodeJS.Timeout;
}

export interface Supervisor {
  /** The receiver's start-up facts, once both processes are ready. */
  started: Promise<Started>;
  pids(): { receiver?: number; workers?: number };
  stop(signal: NodeJS.Signals): Promise<void>;
  /** Passes a signal on to both processes (SIGHUP: read the district folder again). */
  signal(signal: NodeJS.Signals): void;
}

/**
 * Starts both children. `script` is the CLI entry (bin/houqin.mjs); `port` is where the receiver listens (0: any,
 * and then a restarted receiver gets the port the first one had).
 */
export function supervise(script: string, env: Env, log: Logger): Supervisor {
  let stopping = false;
  let port = env.PORT || '3000';
  let resolveStarted!: (s: Started) => void;
  let rejectStarted!: (e: Error) => void;
  const started = new Promise<Started>((res, rej) => {
    resolveStarted = res;
    rejectStarted = rej;
  });
  let first: Started | undefined;
  let announced = false;
  const children: Record<Role, Child> = {
    receiver: { role: 'receiver', ready: false, startedAt: 0, failures: 0 },
    workers: { role: 'workers', ready: false, startedAt: 0, failures: 0 },
  };

  const tellReceiver = () => {
    const r = children.receiver.proc;
    if (r?.connected) r.send({ type: 'workers', up: children.workers.ready } satisfies ParentMessage);
  };

  const announce = () => {
    if (announced || !first || !children.receiver.ready || !children.workers.ready) return;
    announced = true;
    // Tests and scripts wait for this exact line, as from a single process.
    log.info(
      { ...first.ready, port: first.port, role: 'all', processes: 2, pid: process.pid, ...pidsOf() },
      `houqin listening on port ${first.port}`,
    );
    resolveStarted({ ...first, role: 'all' });
  };

  const pidsOf = () => ({ receiver: children.receiver.proc?.pid, workers: children.workers.proc?.pid });

  const start = (c: Child) => {
    c.ready = false;
    c.startedAt = Date.now();
    const proc = fork(script, ['serve', '--role', c.role], {
      env: { ...env, HOUQIN_SUPERVISED: '1', PORT: c.role === 'receiver' ? port : '0' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    c.proc = proc;
    if (c.role === 'workers' && proc.pid) lowerPriority(proc.pid, log);
    proc.on('message', (m: ChildMessage) => {
      if (m?.type !== 'ready') return;
      c.ready = true;
      if (c.role === 'receiver') {
        first ??= m.started;
        port = String(m.started.port); // a restarted receiver takes the same port
      } else if (proc.pid) lowerPriority(proc.pid, log); // again: threads V8 started meanwhile
      tellReceiver();
      if (announced) log.info({ role: c.role, pid: proc.pid }, `${c.role} process restarted and ready`);
      announce();
    });
    proc.on('exit', (code, signal) => {
      c.ready = false;
      if (c.proc === proc) c.proc = undefined;
      if (c.role === 'workers') tellReceiver();
      if (stopping) return;
      if (!announced && code === 1) {
        // A process could not start at all (the port taken, Redis refusing): nothing to supervise.
        rejectStarted(new Error(`the ${c.role} process could not start (exit ${code})`));
        return;
      }
      c.failures = Date.now() - c.startedAt > STABLE_MS ? 1 : c.failures + 1;
      const wait = Math.min(MAX_BACKOFF_MS, 250 * 2 ** (c.failures - 1));
      log.error(
        { role: c.role, pid: proc.pid, code, signal, restartInMs: wait },
        `${c.role} process exited; restarting it`,
      );
      c.timer = setTimeout(() => start(c), wait);
    });
  };

  start(children.receiver);
  start(children.workers);

  return {
    started,
    pids: pidsOf,
    signal(signal) {
      for (const c of Object.values(children)) if (c.proc && c.proc.exitCode === null) c.proc.kill(signal);
    },
    async stop(signal) {
      if (stopping) return;
      stopping = true;
      const all = Object.values(children);
      for (const c of all) clearTimeout(c.timer);
      await Promise.all(
        all.map(async (c) => {
          const p = c.proc;
          if (!p || p.exitCode !== null || p.signalCode !== null) return;
          const exited = new Promise((r) => p.once('exit', r));
          p.kill(signal);
          const t = setTimeout(() => {
            log.warn({ role: c.role }, `${c.role} process did not stop in ${STOP_MS / 1000} s; killing it`);
            p.kill('SIGKILL');
          }, STOP_MS);
          await exited;
          clearTimeout(t);
        }),
      );
    },
  };
}

/**
 * nice 10 for every thread of the workers process. setpriority() on Linux sets one thread: the threads V8 and libuv
 * start later inherit from the thread that starts them, but the ones already running keep their own.
 */
function lowerPriority(pid: number, log: Logger): void {
  let tids: number[] = [pid];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    // not Linux: the process as a whole
  }
  for (const tid of tids) {
    try {
      setPriority(tid, WORKERS_NICE);
    } catch (e) {
      if (tid === pid) log.warn({ err: (e as Error).message }, 'could not lower the workers process priority');
    }
  }
}
