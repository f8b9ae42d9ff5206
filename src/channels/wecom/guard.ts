// Checks shared by both WeCom receivers: body size, freshness, signature, replay.
import { StaleRequestError, VerificationError } from '../../errors.js';
import type { CallbackAnswer, CallbackRequest, CallbackRoute } from '../../http/callbacks.js';
import type { Ingress } from '../ingress.js';
import { open, verifySignature, type CallbackKeys } from './crypto.js';

export interface SignedQuery {
  signature: string;
  timestamp: string;
  nonce: string;
}

/** One value per name: a repeated parameter is as good as a missing one (the signature check then fails). */
export function one(q: URLSearchParams, name: string): string {
  const all = q.getAll(name);
  return all.length === 1 ? all[0] : '';
}

export function signedQuery(q: URLSearchParams): SignedQuery {
  return { signature: one(q, 'msg_signature'), timestamp: one(q, 'timestamp'), nonce: one(q, 'nonce') };
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
export function refuse(req: CallbackRequest, ingress: Ingress, surface: string, err: unknown): CallbackAnswer {
  const e = err as { status?: number; statusCode?: number; type?: string; message?: string };
  let status = 500;
  if (err instanceof VerificationError) status = err.status;
  else if (err instanceof StaleRequestError) status = 403;
  else if (e.type === 'entity.too.large') status = 413;
  else if (e.statusCode && e.statusCode < 500) status = e.statusCode;
  const level = status >= 500 ? 'error' : 'warn';
  ingress.log[level]({ surface, status, reason: e.message, ip: req.ip }, 'wecom callback refused');
  return { status, body: status === 413 ? 'payload too large' : status >= 500 ? 'internal error' : 'refused' };
}

/** The GET URL check both surfaces share: answer the decrypted echostr, the plaintext only (wecom.md §2.4). */
export function urlCheck(ingress: Ingress, k: CallbackKeys, surface: string) {
  return (req: CallbackRequest): CallbackAnswer => {
    try {
      const echostr = one(req.query, 'echostr');
      verify(ingress, k, signedQuery(req.query), echostr);
      return { status: 200, body: open(k, echostr) }; // no quotes, no newline
    } catch (e) {
      return refuse(req, ingress, surface, e);
    }
  };
}

/**
 * The two routes of one WeCom callback surface, `/wecom/<surface>`: GET is the URL check, POST hands the request
 * and its signed query to `receive`; whatever either throws becomes a refusal.
 */
export function surfaceRoutes(
  surface: 'aibot' | 'app',
  ingress: Ingress,
  k: CallbackKeys,
  receive: (req: CallbackRequest, q: SignedQuery) => Promise<CallbackAnswer>,
): CallbackRoute[] {
  const path = `/wecom/${surface}`;
  return [
    { method: 'GET', path, handle: urlCheck(ingress, k, surface) },
    {
      method: 'POST',
      path,
      handle: async (req) => {
        try {
          return await receive(req, signedQuery(req.query));
        } catch (e) {
          return refuse(req, ingress, surface, e);
        }
      },
    },
  ];
}

export const ok: CallbackAnswer = { status: 200, body: '' };

export function replayed(ingress: Ingress, surface: string, detail: Record<string, unknown>): CallbackAnswer {
  ingress.log.warn(detail, `replayed ${surface} callback refused`);
  return { status: 409, body: 'replayed' };
}
