// Checks shared by both WeCom receivers: body size, freshness, signature, replay.
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { StaleRequestError, VerificationError } from '../../errors.js';
import type { Ingress } from '../ingress.js';
import { open, verifySignature, type CallbackKeys } from './crypto.js';

export async function readBody(ctx: Context, limit: number): Promise<string> {
  return getRawBody(ctx.req, { limit, encoding: 'utf8', length: ctx.get('content-length') || undefined });
}

export interface SignedQuery {
  signature: string;
  timestamp: string;
  nonce: string;
}

export function signedQuery(ctx: Context): SignedQuery {
  const q = ctx.query;
  const one = (v: unknown) => (typeof v === 'string' ? v : '');
  return { signature: one(q.msg_signature), timestamp: one(q.timestamp), nonce: one(q.nonce) };
}

/** Signature first (cheap, and tells forgeries from clock trouble), then freshness. */
export function verify(ingress: Ingress, keys: CallbackKeys, q: SignedQuery, encrypted: string): void {
  verifySignature(keys, q.signature, q.timestamp, q.nonce, encrypted);
  const ts = Number(q.timestamp) * 1000;
  if (!Number.isFinite(ts) || Math.abs(ingress.now() - ts) > ingress.maxSkewMs) {
    throw new StaleRequestError(`timestamp ${q.timestamp} is outside ±${ingress.maxSkewMs / 1000}s`);
  }
}

/** Maps our errors to HTTP answers; never a stack trace to the caller. */
export function refuse(ctx: Context, ingress: Ingress, surface: string, err: unknown): void {
  const e = err as { status?: number; statusCode?: number; type?: string; message?: string };
  let status = 500;
  if (err instanceof VerificationError) status = err.status;
  else if (err instanceof StaleRequestError) status = 403;
  else if (e.type === 'entity.too.large') status = 413;
  else if (e.statusCode && e.statusCode < 500) status = e.statusCode;
  const level = status >= 500 ? 'error' : 'warn';
  ingress.log[level]({ surface, status, reason: e.message, ip: ctx.ip }, 'wecom callback refused');
  ctx.status = status;
  ctx.body = status === 413 ? 'payload too large' : status >= 500 ? 'internal error' : 'refused';
}

/** The GET URL check both surfaces share: answer the decrypted echostr, the plaintext only (wecom.md §2.4). */
export function urlCheck(ingress: Ingress, k: CallbackKeys, surface: string) {
  return (ctx: Context) => {
    try {
      const echostr = typeof ctx.query.echostr === 'string' ? ctx.query.echostr : '';
      verify(ingress, k, signedQuery(ctx), echostr);
      ctx.type = 'text/plain';
      ctx.body = open(k, echostr); // no quotes, no newline
    } catch (e) {
      refuse(ctx, ingress, surface, e);
    }
  };
}
