// `houqin serve` / `npm start`: load settings, make sure Redis is there, run until SIGTERM/SIGINT.
import { createHouqin } from '../app.js';
import { loadSettings, parseRole } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { createLogger, logFormat } from '../log.js';
import { banner } from './banner.js';
import { ensureRedis } from '../store/local-redis.js';
import { defaultConfigPath } from './paths.js';

export async function serveCommand(args: string[]): Promise<number> {
  const format = logFormat(process.env, !!process.stdout.isTTY);
  const log = createLogger(process.env.LOG_LEVEL || 'info', undefined, format);
  let settings: ReturnType<typeof loadSettings>;
  try {
    settings = loadSettings(process.env, process.env.HOUQIN_CONFIG || defaultConfigPath());
    const i = args.findIndex((a) => a === '--role' || a.startsWith('--role='));
    if (i >= 0) settings.role = parseRole(args[i].includes('=') ? args[i].split('=')[1] : args[i + 1], '--role');
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`houqin: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (settings.missingEnv.length)
    log.info(
      { unset: settings.missingEnv },
      'config refers to unset environment variables; the features that need them stay off',
    );
  const localRedis = await ensureRedis(settings.redisUrl, log);
  const houqin = createHouqin(settings, log);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining in-flight work');
    try {
      await houqin.stop();
      await localRedis?.stop();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const started = await houqin.start();
  if (format === 'pretty') process.stderr.write(banner(started, settings.redisUrl, !!localRedis));
  return -1; // keep running
}
