// The signature DingTalk puts on every robot callback in HTTP mode: the `timestamp` header (ms) and `sign` =
// base64(HMAC-SHA256(key = app secret, timestamp + "\n" + app secret)), plain base64, not URL-encoded
// (https://open.dingtalk.com/document/orgapp/receive-message).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { StaleRequestError, VerificationError } from '../../errors.js';

export function robotSign(timestamp: string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

/**
 * Signature first (it tells a forgery from clock trouble), then freshness: VerificationError (401) for a missing or
 * wrong sign, StaleRequestError (403) for a timestamp further than `maxSkewMs` from `now`.
 */
export function verifyRobotSign(
  timestamp: string | undefined,
  sign: string | undefined,
  secret: string,
  now: number,
  maxSkewMs: number,
): void {
  if (!timestamp || !sign) throw new VerificationError('timestamp or sign header missing');
  if (!/^\d{1,16}$/.test(timestamp)) throw new VerificationError('timestamp header is not a number of milliseconds');
  const want = Buffer.from(robotSign(timestamp, secret));
  const got = Buffer.from(sign);
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new VerificationError('sign does not match');
  if (Math.abs(now - Number(timestamp)) > maxSkewMs)
    throw new StaleRequestError(`timestamp ${timestamp} is outside ±${maxSkewMs / 1000}s`);
}

/**
 * A custom robot's Webhook address, signed for one request when the robot has a 加签 secret (SEC…): `timestamp`
 * (ms) and `sign` = the same HMAC as above keyed with that secret, URL-encoded exactly once — URLSearchParams does
 * that (+ / = become %2B %2F %3D); encoding it again yields "sign not match" (dingtalk.md §3.1, vectors S1–S3).
 * DingTalk refuses a timestamp more than an hour from its clock, so each send signs afresh.
 */
export function signedWebhook(webhook: string, secret: string | undefined, now: number): string {
  if (!secret) return webhook;
  const u = new URL(webhook);
  const ts = String(now);
  u.searchParams.set('timestamp', ts);
  u.searchParams.set('sign', robotSign(ts, secret));
  return u.toString();
}

/**
 * The signature on a card callback in HTTP mode (https://open.dingtalk.com/document/orgapp/event-callback-card,
 * 回调签名验证): the `x-ddpaas-signature-timestamp` header (ms) and `x-ddpaas-signature` = base64(HMAC-SHA256(key =
 * the apiSecret registered with the callback address, the timestamp alone)) — not the robot's formula above.
 */
export function cardCallbackSign(timestamp: string, apiSecret: string): string {
  return createHmac('sha256', apiSecret).update(timestamp, 'utf8').digest('base64');
}

/** As verifyRobotSign: VerificationError (401) for a missing or wrong signature, StaleRequestError (403) if stale. */
export function verifyCardCallbackSign(
  timestamp: string | undefined,
  sign: string | undefined,
  apiSecret: string,
  now: number,
  maxSkewMs: number,
): void {
  if (!timestamp || !sign) throw new VerificationError('x-ddpaas-signature or its timestamp header missing');
  if (!/^\d{1,16}$/.test(timestamp)) throw new VerificationError('signature timestamp is not a number of milliseconds');
  const want = Buffer.from(cardCallbackSign(timestamp, apiSecret));
  const got = Buffer.from(sign);
  if (got.length !== want.length || !timingSafeEqual(got, want))
    throw new VerificationError('x-ddpaas-signature does not match');
  if (Math.abs(now - Number(timestamp)) > maxSkewMs)
    throw new StaleRequestError(`timestamp ${timestamp} is outside ±${maxSkewMs / 1000}s`);
}
