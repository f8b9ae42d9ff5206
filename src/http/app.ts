// The Koa app: health, readiness, channel receivers, operator endpoints. Nothing here knows about tasks.
import Koa from 'koa';
import Router from '@koa/router';
import type { Redis } from 'ioredis';
import type { Ingress } from '../channels/ingress.js';
import type { Settings } from '../config/load.js';
import { mountAibot } from '../channels/wecom/aibot.js';
import { mountApp } from '../channels/wecom/app.js';
import type { Queues } from '../queues/runtime.js';
import { mountAdmin } from './admin.js';

export interface HttpDeps {
  settings: Settings;
  ingress: Ingress;
  queues: Queues;
  redis: Redis;
  /** Extra routes from other parts (the local console). */
  mount?: ((router: Router) => void)[];
}

export function createHttpApp(d: HttpDeps): Koa {
  const app = new Koa({ proxy: true });
  const router = new Router();
  const { settings, ingress } = d;

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
    const workers = d.settings.role === 'receiver' || d.queues.workersRunning(); // a receiver runs none
    ctx.status = redis && workers ? 200 : 503;
    ctx.body = { ok: redis && workers, redis, workers };
  });

  // A workers-only process answers health checks and nothing else.
  if (settings.role === 'workers') return finish(app, router, ingress);
  if (settings.wecom.aibot) mountAibot(router, ingress, settings.wecom.aibot);
  if (settings.wecom.app && settings.wecom.corpId) mountApp(router, ingress, { ...settings.wecom.app, corpId: settings.wecom.corpId });
  if (settings.adminToken) mountAdmin(router, d.queues, settings.adminToken);
  for (const m of d.mount ?? []) m(router);
  return finish(app, router, ingress);
}

function finish(app: Koa, router: Router, ingress: Ingress): Koa {
  app.on('error', (err: Error) => ingress.log.error({ err: err.message }, 'http error'));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
