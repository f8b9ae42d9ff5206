// The HTTP front: channel callbacks on plain node:http (callbacks.ts), and a Koa app for health, readiness, the
// console and operator endpoints. Nothing here knows about tasks, sites or platforms: the sites hand over their
// callback routes and mount their pages on the router (site.ts).
import type { RequestListener } from 'node:http';
import Koa from 'koa';
import type Router from '@koa/router';
import type { Redis } from 'ioredis';
import type { Settings } from '../config/load.js';
import type { Logger } from '../log.js';
import { type CallbackTable, withCallbacks } from './callbacks.js';
import type { Metrics } from './metrics.js';

export interface HttpDeps {
  settings: Pick<Settings, 'role'>;
  redis: Redis;
  /** The sites' pages (console, admin), already mounted; health and readiness are added here. */
  router: Router;
  /** The platform callbacks of every site. */
  callbacks: CallbackTable;
  /** Times the callbacks, where an operator can read the figures. */
  metrics?: Metrics;
  /** Whether this process's queue workers run. */
  workersRunning: () => boolean;
  /** A supervised receiver: whether the workers process beside it is up (cli/supervise.ts). */
  workersUp?: () => boolean;
  log: Logger;
}

/** The server's request listener. */
export function createHttpApp(d: HttpDeps): RequestListener {
  const app = new Koa({ proxy: true });
  const { router } = d;
  router.get('/healthz', (ctx) => {
    ctx.body = { ok: true };
  });
  router.get('/readyz', async (ctx) => {
    let redis = false;
    try {
      redis = (await d.redis.ping()) === 'PONG';
    } catch {
      redis = false;
    }
    // A receiver runs no workers; a supervised one knows whether its workers process is up.
    const workers = d.settings.role === 'receiver' ? (d.workersUp?.() ?? true) : d.workersRunning();
    ctx.status = redis && workers ? 200 : 503;
    ctx.body = { ok: redis && workers, redis, workers };
  });
  const onError = (err: Error) => d.log.error({ err: err.message }, 'http error');
  app.on('error', onError);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return withCallbacks(d.callbacks, app.callback(), onError, d.metrics);
}
