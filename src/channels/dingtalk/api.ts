// DingTalk server API calls for the robot (POST /v1.0/oauth2/accessToken,
// https://open.dingtalk.com/document/orgapp/the-robot-sends-a-group-message): the app access token is cached in Redis so every instance shares one, fetched
// by one instance at a time, refreshed five minutes before it expires and once more when DingTalk says it is invalid.
// New-style API errors come as a non-2xx status with `{code, message}`; sessionWebhook errors as `{errcode, errmsg}`.
import type { Redis } from 'ioredis';
import { PlatformError } from '../../errors.js';
import { safeUrl as safeWecomUrl, type Logger } from '../../log.js';
import type { Keys } from '../../store/keys.js';

/** Codes that mean "this token is no good": drop it, fetch another, try once more. */
const TOKEN_CODES = new Set([
  'InvalidAuthentication',
  'invalidAuthentication',
  'AuthenticationFailed.MissingParameter',
]);
/** Throttling codes seen from the robot API; DingTalk publishes no numbers, so wait a minute. */
export const THROTTLE_CODES = new Set([
  'send.too.fast',
  'too.many.group',
  'too.many.people',
  'send.byToken.tooFast',
  'Throttling',
  'Throttling.Api',
  'Throttling.User',
]);
/** sessionWebhook: the session is gone (expired, about 90 minutes after the message). */
export const SESSION_GONE = 300001;
/** sessionWebhook / custom robot throttling: 20 messages a minute, then a 10-minute block (dingtalk.md §3.4). */
export const WEBHOOK_THROTTLED = new Set([130101, 660026]);
/** oapi token refusals: 88 with sub_code 40014 (dingtalk.md §5), and the plain codes older answers use. */
const OAPI_TOKEN_CODES = new Set([88, 40014, 42001]);

/** A URL fit for logs: tokens, the sessionWebhook's session key and a custom robot's signature masked. */
export function safeUrl(url: string): string {
  return safeWecomUrl(url).replace(/([?&](?:session|sign)=)[^&]*/g, '$1***');
}

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

export class DingtalkApi {
  constructor(
    private base: string,
    private appKey: string,
    private appSecret: string,
    private redis: Redis,
    private k: Keys,
    private log: Logger,
    private timeoutMs = 10_000,
    /** The old API host, for media/upload. */
    private oapiBase = 'https://oapi.dingtalk.com',
  ) {}

  private get tokenKey() {
    return this.k.token(`dingtalk:${this.appKey}`);
  }
  private get lockKey() {
    return this.k.tokenLock(`dingtalk:${this.appKey}`);
  }

  async token(force = false): Promise<string> {
    if (!force) {
      const cached = await this.redis.get(this.tokenKey);
      if (cached) return cached;
    }
    // One instance fetches; the others wait briefly and read what it stored.
    if ((await this.redis.set(this.lockKey, '1', 'PX', 5000, 'NX')) !== 'OK') {
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const t = await this.redis.get(this.tokenKey);
        if (t && !force) return t;
        if (!(await this.redis.exists(this.lockKey))) break;
      }
    }
    try {
      const res = await this.call(`${this.base}/v1.0/oauth2/accessToken`, {
        appKey: this.appKey,
        appSecret: this.appSecret,
      });
      const token = res.body.accessToken;
      if (res.status !== 200 || typeof token !== 'string' || !token) throw apiError('/v1.0/oauth2/accessToken', res);
      const ttl = Math.max(60, Number(res.body.expireIn ?? 7200) - 300);
      await this.redis.set(this.tokenKey, token, 'EX', ttl);
      return token;
    } finally {
      await this.redis.del(this.lockKey);
    }
  }

  /** POST to the robot API with the token header; one fresh token on a token error; PlatformError on any other. */
  async post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const res = await this.send('POST', path, body);
    if (res.status !== 200) throw apiError(path, res);
    return res.body;
  }

  /**
   * A call with the token header, once more with a fresh token when DingTalk says it is no good; the answer as it
   * came, for callers that read the error code themselves (the card API's `param.cardAlreadyExist`).
   */
  async send(method: 'POST' | 'PUT', path: string, body: unknown): Promise<ApiAnswer> {
    let res = await postJson(`${this.base}${path}`, body, this.timeoutMs, await this.token(), method);
    if (res.status !== 200 && TOKEN_CODES.has(String(res.body.code))) {
      this.log.info({ path, code: res.body.code }, 'dingtalk token rejected; refreshing once');
      await this.redis.del(this.tokenKey);
      res = await postJson(`${this.base}${path}`, body, this.timeoutMs, await this.token(true), method);
    }
    return res;
  }

  /** POST to a sessionWebhook (its own credential is in the URL); PlatformError with the errcode on a refusal. */
  postWebhook(url: string, body: unknown): Promise<void> {
    return postRobotWebhook(url, body, this.timeoutMs);
  }

  /**
   * Uploads a picture with oapi `media/upload` (https://open.dingtalk.com/document/orgapp/upload-media-files):
   * multipart/form-data, the file in the field `media`, `type=image` in the form and in the query (some SDKs were
   * told to put it there); the app's token in the query — the same token works on both hosts (dingtalk.md §5).
   * Images up to 20 MB, jpg/gif/png/bmp. Returns the media_id that `sampleImageMsg` takes as its photoURL.
   */
  async upload(filename: string, data: Buffer, contentType: string): Promise<string> {
    const send = async (token: string): Promise<ApiAnswer> => {
      const form = new FormData();
      form.append('type', 'image');
      form.append('media', new Blob([new Uint8Array(data)], { type: contentType }), filename);
      const url = `${this.oapiBase}/media/upload?access_token=${encodeURIComponent(token)}&type=image`;
      return request(url, { method: 'POST', body: form }, this.timeoutMs * 3);
    };
    let res = await send(await this.token());
    if (OAPI_TOKEN_CODES.has(Number(res.body.errcode))) {
      this.log.info({ path: '/media/upload', errcode: res.body.errcode }, 'dingtalk token rejected; refreshing once');
      await this.redis.del(this.tokenKey);
      res = await send(await this.token(true));
    }
    const errcode = Number(res.body.errcode ?? 0);
    if (res.status !== 200 || errcode !== 0) {
      const busy = errcode === -1 || res.status >= 500 || res.status === 429;
      throw new PlatformError(
        `/media/upload: HTTP ${res.status} ${errcode} ${String(res.body.errmsg ?? '')}`.trim(),
        errcode || -1,
        busy || OAPI_TOKEN_CODES.has(errcode),
      );
    }
    const id = res.body.media_id;
    if (typeof id !== 'string' || !id) throw new PlatformError('media/upload answered without a media_id', -1, true);
    return id;
  }

  private call(url: string, body: unknown, token?: string): Promise<ApiAnswer> {
    return postJson(url, body, this.timeoutMs, token);
  }
}

/**
 * POST to a URL that carries its own credential: a message's sessionWebhook, or a custom robot's signed Webhook.
 * Both answer HTTP 200 with `{errcode, errmsg}`; a refusal is a PlatformError with that errcode — throttling (130101)
 * and "busy" (-1) may be tried again, anything else (a bad signature, an unknown token, an ended session) not.
 */
export async function postRobotWebhook(url: string, body: unknown, timeoutMs = 10_000): Promise<void> {
  const res = await postJson(url, body, timeoutMs);
  const errcode = Number(res.body.errcode ?? 0);
  if (res.status !== 200) throw apiError(safeUrl(url), res);
  if (errcode !== 0)
    throw new PlatformError(
      `${safeUrl(url)}: ${errcode} ${String(res.body.errmsg ?? '')}`,
      errcode,
      WEBHOOK_THROTTLED.has(errcode) || errcode === -1,
      WEBHOOK_THROTTLED.has(errcode) ? 60_000 : undefined,
    );
}

function postJson(
  url: string,
  body: unknown,
  timeoutMs: number,
  token?: string,
  method: 'POST' | 'PUT' = 'POST',
): Promise<ApiAnswer> {
  return request(
    url,
    {
      method,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(token ? { 'x-acs-dingtalk-access-token': token } : {}),
      },
      body: JSON.stringify(body),
    },
    timeoutMs,
  );
}

/** One request with a JSON answer; a network failure or a 2xx that is not JSON is a retryable PlatformError. */
async function request(url: string, init: RequestInit, timeoutMs: number): Promise<ApiAnswer> {
  let status: number;
  let text: string;
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    status = res.status;
    text = await res.text();
  } catch (e) {
    throw new PlatformError(`request to ${safeUrl(url)} failed: ${(e as Error).message}`, -1, true);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return { status, body: parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {} };
  } catch {
    if (status >= 200 && status < 300) throw new PlatformError(`non-JSON answer from ${safeUrl(url)}`, -1, true);
    return { status, body: {} };
  }
}

/**
 * A refusal as a PlatformError: 5xx, 429 and throttling codes are tried again (throttling after a minute); a bad
 * parameter, a missing permission (Forbidden.AccessDenied.*) or a stopped robot are kept as failed.
 */
export function apiError(where: string, res: ApiAnswer): PlatformError {
  const code = String(res.body.code ?? '');
  const throttled = res.status === 429 || THROTTLE_CODES.has(code);
  const retryable = throttled || res.status >= 500 || res.status === 0 || TOKEN_CODES.has(code);
  return new PlatformError(
    `${where}: HTTP ${res.status} ${code} ${String(res.body.message ?? '')}`.trim(),
    -1,
    retryable,
    throttled ? 60_000 : undefined,
  );
}
