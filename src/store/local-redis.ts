// `npm start` on a fresh machine: when nothing answers at REDIS_URL on this host and redis-server is installed,
// start one with its data under ./data (AOF on, noeviction) and stop it when we stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '../log.js';
import { connect } from './redis.js';

async function answers(url: string): Promise<boolean> {
  const r = connect(
    { kind: 'standalone', url },
    {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
    },
  );
  r.on('error', () => undefined); // the failed connect is the answer, not an error to log
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

export interface LocalRedis {
  stop(): Promise<void>;
}

export async function ensureRedis(url: string, log: Logger, dataDir = 'data'): Promise<LocalRedis | undefined> {
  if (await answers(url)) return undefined;
  const u = new URL(url);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(u.hostname);
  const installed = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!local || !installed) {
    throw new Error(
      `nothing answers at ${url.replace(/\/\/.*@/, '//***@')}. Start Redis (Debian/Ubuntu: "sudo apt-get install redis-server"; ` +
        'or "docker compose up -d redis"), or set REDIS_URL to one that runs with appendonly yes and maxmemory-policy noeviction.',
    );
  }
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const port = u.port || '6379';
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      port,
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore' },
  );
  log.info({ port, dir }, `started redis-server on port ${port} with its data in ${dir} (AOF on)`);
  for (let i = 0; i < 50; i++) {
    if (await answers(url)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
