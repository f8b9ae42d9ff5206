// `houqin serve` / `npm start`: load settings, make sure Redis is there, run until SIGTERM/SIGINT.
// Without --role on a host with two or more cores it supervises a receiver and a workers process (supervise.ts);
// `--role all|receiver|workers` runs that one role in this process, as operators who split by hand expect.
import { createHouqin } from '../app.js';
import { loadSettings, parseRole } from '../config/load.js';
import { describeTopology } from '../config/redis-topology.js';
import { ConfigError } from '../errors.js';
import { createLogger, logFormat } from '../log.js';
import { banner } from './banner.js';
import { ensureRedis } from '../store/local-redis.js';
import { defaultConfigPath } from './paths.js';
import { type ChildMessage, type ParentMessage, processCount, supervise } from './supervise.js';

export async function serveCommand(args: string[]): Promise<number> {
  const format = logFormat(process.env, !!process.stdout.isTTY);
  const log = createLogger(process.env.LOG_LEVEL || 'info', undefined, format);
  let settings: ReturnType<typeof loadSettings>;
  let processes: 1 | 2 = 1;
  const i = args.findIndex((a) => a === '--role' || a.startsWith('--role='));
  try {
    settings = loadSettings(process.env, process.env.HOUQIN_CONFIG || defaultConfigPath());
    if (i >= 0) settings.role = parseRole(args[i].includes('=') ? args[i].split('=')[1] : args[i + 1], '--role');
    if (i < 0 && settings.role === 'all') processes = processCount(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`houqin: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const child = process.env.HOUQIN_SUPERVISED === '1' && !!process.send;
  if (settings.missingEnv.length && !child)
    log.info(
      { unset: settings.missingEnv },
      'config refers to unset environment variables; the features that need them stay off',
    );
  // Only a lone server on this host is started for the user; a Sentinel group is somebody's operated system.
  const localRedis = settings.redis.kind === 'standalone' ? await ensureRedis(settings.redis.url, log) : undefined;
  const where = describeTopology(settings.redis);

  if (processes === 2) {
    const sup = supervise(process.argv[1], process.env, log);
    let stopping = false;
    const stop = async (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down: both processes drain their in-flight work');
      try {
        await sup.stop(signal);
        await localRedis?.stop();
      } finally {
        process.exit(0);
      }
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    // A district's new site files: both processes read the folder again (app.ts reload).
    process.on('SIGHUP', () => sup.signal('SIGHUP'));
    try {
      const started = await sup.started;
      if (format === 'pretty') process.stderr.write(banner(started, where, !!localRedis, 2));
    } catch (e) {
      log.error({ err: (e as Error).message }, 'could not start');
      await sup.stop('SIGTERM');
      await localRedis?.stop();
      return 1;
    }
    return -1;
  }

  // A supervised child hears from the supervisor whether the workers process is up (the receiver's /readyz).
  let workersUp = false;
  if (child) process.on('message', (m: ParentMessage) => m?.type === 'workers' && (workersUp = m.up));
  const configPath = process.env.HOUQIN_CONFIG || defaultConfigPath();
  const reloadSettings = () => ({ ...loadSettings(process.env, configPath), role: settings.role });
  const houqin = createHouqin(
    settings,
    log,
    child ? { supervised: true, workersUp: () => workersUp, reloadSettings } : { reloadSettings },
  );
  process.on('SIGHUP', () => void houqin.reload());
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, ...(child ? { role: settings.role } : {}) }, 'shutting down: draining in-flight work');
    try {
      await houqin.stop();
      await localRedis?.stop();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // The supervisor is gone (killed without passing a signal on): stop too, rather than run unsupervised.
  if (child) process.on('disconnect', () => void stop('supervisor gone'));
  const started = await houqin.start();
  if (child) process.send!({ type: 'ready', started } satisfies ChildMessage);
  else if (format === 'pretty') process.stderr.write(banner(started, where, !!localRedis));
  return -1; // keep running
}
