// The HTTP front: channel callbacks on plain node:http (callbacks.ts), and a Koa app for health, readiness, the
// console and operator endpoints. Nothing here knows about tasks.
import type { RequestListener } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import type { Redis } from 'ioredis';
import type { Ingress } from '../channels/ingress.js';
import type { Settings } from '../config/load.js';
import { aibotRoutes } from '../channels/wecom/aibot.js';
import { appRoutes } from '../channels/wecom/app.js';
import { robotRoutes } from '../channels/dingtalk/receiver.js';
import { cardRoutes } from '../channels/dingtalk/card-callback.js';
import type { DingtalkCards } from '../channels/dingtalk/cards.js';
import type { Queues } from '../queues/runtime.js';
import { mountAdmin } from './admin.js';
import { withCallbacks, type CallbackRoute } from './callbacks.js';
import { Metrics } from './metrics.js';

export interface HttpDeps {
  settings: Settings;
  ingress: Ingress;
  queues: Queues;
  redis: Redis;
  /** Extra routes from other parts (the local console). */
  mount?: ((router: Router) => void)[];
  /** Shared with parts that report to it (the DingTalk Stream connection); one of our own when not given. */
  metrics?: Metrics;
  /** DingTalk cards with buttons (a card template is configured): their clicks' route in HTTP mode. */
  dingtalkCards?: DingtalkCards;
  /** A supervised receiver: whether the workers process beside it is up (cli/supervise.ts). */
  workersUp?: () => boolean;
}

/** The server's request listener. */
export function createHttpApp(d: HttpDeps): RequestListener {
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
    // A receiver runs no workers; a supervised one knows whether its workers process is up.
    const workers = d.settings.role === 'receiver' ? (d.workersUp?.() ?? true) : d.queues.workersRunning();
    ctx.status = redis && workers ? 200 : 503;
    ctx.body = { ok: redis && workers, redis, workers };
  });

  const callbacks: CallbackRoute[] = [];
  let metrics: Metrics | undefined; // timed only where an operator can read them
  // A workers-only process answers health checks and nothing else.
  if (settings.role !== 'workers') {
    if (settings.wecom.aibot) callbacks.push(...aibotRoutes(ingress, settings.wecom.aibot));
    if (settings.wecom.app && settings.wecom.corpId)
      callbacks.push(...appRoutes(ingress, { ...settings.wecom.app, corpId: settings.wecom.corpId }));
    // In Stream mode messages come over the connection Houqin dials (app.ts), not to this route.
    if (settings.dingtalk?.mode === 'http' && settings.config.channels.dingtalk.enabled)
      callbacks.push(...robotRoutes(ingress, settings.dingtalk));
    if (settings.dingtalk?.mode === 'http' && settings.dingtalk.cards && d.dingtalkCards)
      callbacks.push(...cardRoutes(ingress, d.dingtalkCards, settings.dingtalk.cards));
    if (settings.adminToken) mountAdmin(router, d.queues, settings.adminToken, (metrics = d.metrics ?? new Metrics()));
    for (const m of d.mount ?? []) m(router);
  }
  const onError = (err: Error) => ingress.log.error({ err: err.message }, 'http error');
  app.on('error', onError);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return withCallbacks(callbacks, app.callback(), onError, metrics);
}
