// Operator endpoints: read and replay outgoing messages that failed for good. Off unless HOUQIN_ADMIN_TOKEN is set.
import type Router from '@koa/router';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Queues } from '../queues/runtime.js';

function sameSecret(a: string, b: string): boolean {
  // Hash both so lengths match and the comparison time says nothing about the token.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export function mountAdmin(router: Router, queues: Queues, token: string): void {
  router.use('/admin', async (ctx, next) => {
    const given = (ctx.get('authorization').match(/^Bearer\s+(.+)$/i) ?? [])[1] ?? '';
    if (!given || !sameSecret(given, token)) {
      ctx.status = 401;
      ctx.body = { error: 'missing or wrong bearer token (HOUQIN_ADMIN_TOKEN)' };
      return;
    }
    await next();
  });
  router.get('/admin/outbox/failed', async (ctx) => {
    ctx.body = { failed: await queues.failedOutbox(Number(ctx.query.limit) || 100) };
  });
  router.post('/admin/outbox/replay', async (ctx) => {
    const ids = typeof ctx.query.id === 'string' ? [ctx.query.id] : Array.isArray(ctx.query.id) ? ctx.query.id : undefined;
    ctx.body = { replayed: await queues.replayOutbox(ids) };
  });
}
