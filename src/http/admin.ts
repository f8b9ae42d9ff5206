// Operator endpoints, behind the admin bearer token (HOUQIN_ADMIN_TOKEN; off unless it is set): read and replay
// outgoing messages that failed for good, and download a month's ledger as Excel.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { PassThrough, type Writable } from 'node:stream';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Queues } from '../queues/runtime.js';
import type { Metrics } from './metrics.js';

function sameSecret(a: string, b: string): boolean {
  // Hash both so lengths match and the comparison time says nothing about the token.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Answers 401 and returns false unless the request carries the admin bearer token. */
function authorized(ctx: Context, token: string): boolean {
  const given = (ctx.get('authorization').match(/^Bearer\s+(.+)$/i) ?? [])[1] ?? '';
  if (given && sameSecret(given, token)) return true;
  ctx.status = 401;
  ctx.body = { error: 'missing or wrong bearer token (HOUQIN_ADMIN_TOKEN)' };
  return false;
}

export function mountAdmin(router: Router, queues: Queues, token: string, metrics?: Metrics): void {
  router.use('/admin', async (ctx, next) => {
    if (!authorized(ctx, token)) return;
    await next();
  });
  router.get('/admin/outbox/failed', async (ctx) => {
    ctx.body = { failed: await queues.failedOutbox(Number(ctx.query.limit) || 100) };
  });
  router.post('/admin/outbox/replay', async (ctx) => {
    const ids =
      typeof ctx.query.id === 'string' ? [ctx.query.id] : Array.isArray(ctx.query.id) ? ctx.query.id : undefined;
    ctx.body = { replayed: await queues.replayOutbox(ids) };
  });
  if (!metrics) return;
  router.get('/admin/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.text();
  });
}

/** GET /admin/metrics alone: a district's deployment-wide figures (no site's data), behind HOUQIN_ADMIN_TOKEN. */
export function mountMetrics(router: Router, token: string, metrics: Metrics): void {
  router.get('/admin/metrics', async (ctx) => {
    if (!authorized(ctx, token)) return;
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.text();
  });
}

export type MonthExporter = (month: string, out: Writable) => Promise<unknown>;

/**
 * GET /admin/export?month=2026-11 — the month's ledger (台账) as .xlsx, streamed as it is written. Checks the
 * bearer token itself, so it is safe wherever it is mounted.
 */
export function mountExport(
  router: Router,
  token: string,
  exportMonth: MonthExporter,
  onError?: (e: Error) => void,
): void {
  router.get('/admin/export', async (ctx) => {
    if (!authorized(ctx, token)) return;
    const month = typeof ctx.query.month === 'string' ? ctx.query.month : '';
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) {
      ctx.status = 400;
      ctx.body = { error: 'month=YYYY-MM is required, e.g. /admin/export?month=2026-11' };
      return;
    }
    const body = new PassThrough();
    ctx.type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    ctx.set(
      'Content-Disposition',
      `attachment; filename="houqin-ledger-${month}.xlsx"; filename*=UTF-8''${encodeURIComponent(`后勤台账-${month}.xlsx`)}`,
    );
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
    // Headers are sent with the first bytes; a failure after that can only cut the download short.
    exportMonth(month, body).catch((e: Error) => {
      onError?.(e);
      body.destroy(e);
    });
  });
}
