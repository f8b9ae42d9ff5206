// WeCom server API calls (protocols/wecom.md §5): the access_token is cached in Redis so every instance shares
// one, refreshed once when WeCom says it is invalid or expired (40014 / 42001 / 41001).
import type { Redis } from 'ioredis';
import { PlatformError } from '../../errors.js';
import { requestJson } from './http-json.js';
import { download, type Downloaded } from './download.js';
import { safeUrl, type Logger } from '../../log.js';
import type { Keys } from '../../store/keys.js';

const TOKEN_ERRORS = new Set([40014, 42001, 41001]);
// Errors worth trying again later (wecom.md §5.6): system busy, and throttling that clears in about a minute.
const RETRYABLE = new Set([-1, 45009, 45033]);
export const THROTTLED = new Set([45009, 45033]);

export interface WecomReply {
  errcode: number;
  errmsg: string;
  [k: string]: unknown;
}

export class WecomApi {
  constructor(
    private base: string,
    private corpId: string,
    private secret: string,
    private redis: Redis,
    private k: Keys,
    private log: Logger,
    private timeoutMs = 10_000,
  ) {}

  private get tokenKey() {
    return this.k.token(`${this.corpId}`);
  }

  async token(force = false): Promise<string> {
    if (!force) {
      const cached = await this.redis.get(this.tokenKey);
      if (cached) return cached;
    }
    // One instance fetches; the others wait briefly and read its result (gettoken is rate-limited).
    const lock = await this.redis.set(this.k.tokenLock(this.corpId), '1', 'PX', 5000, 'NX');
    if (!lock) {
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const t = await this.redis.get(this.tokenKey);
        if (t && !force) return t;
        if (!(await this.redis.exists(this.k.tokenLock(this.corpId)))) break;
      }
    }
    try {
      const url = `${this.base}/cgi-bin/gettoken?corpid=${encodeURIComponent(this.corpId)}&corpsecret=${encodeURIComponent(this.secret)}`;
      const res = await this.fetchJson(url, undefined);
      if (res.errcode !== 0 || typeof res.access_token !== 'string') {
        throw new PlatformError(
          `gettoken failed: ${res.errcode} ${res.errmsg}`,
          res.errcode,
          RETRYABLE.has(res.errcode),
        );
      }
      const ttl = Math.max(60, Number(res.expires_in ?? 7200) - 300);
      await this.redis.set(this.tokenKey, res.access_token, 'EX', ttl);
      return res.access_token;
    } finally {
      await this.redis.del(this.k.tokenLock(this.corpId));
    }
  }

  /** POST with access_token; refreshes the token once on a token error, then raises PlatformError on errcode ≠ 0. */
  async post(path: string, body: unknown): Promise<WecomReply> {
    let token = await this.token();
    let res = await this.fetchJson(`${this.base}${path}?access_token=${encodeURIComponent(token)}`, body);
    if (TOKEN_ERRORS.has(res.errcode)) {
      this.log.info({ path, errcode: res.errcode }, 'wecom token rejected; refreshing once');
      await this.redis.del(this.tokenKey);
      token = await this.token(true);
      res = await this.fetchJson(`${this.base}${path}?access_token=${encodeURIComponent(token)}`, body);
    }
    return check(path, res);
  }

  /**
   * Uploads a temporary media file (wecom.md §5.5: multipart, field `media`; the filename is what people see) and
   * returns its media_id, valid 3 days. Refreshes the token once on a token error, like post().
   */
  async upload(
    type: 'image' | 'voice' | 'video' | 'file',
    filename: string,
    data: Buffer,
    contentType: string,
  ): Promise<string> {
    const form = () => {
      const f = new FormData();
      f.append('media', new Blob([new Uint8Array(data)], { type: contentType }), filename);
      return f;
    };
    const url = (token: string) =>
      `${this.base}/cgi-bin/media/upload?access_token=${encodeURIComponent(token)}&type=${type}`;
    let res = await this.fetchJson(url(await this.token()), undefined, form);
    if (TOKEN_ERRORS.has(res.errcode)) {
      this.log.info({ path: '/cgi-bin/media/upload', errcode: res.errcode }, 'wecom token rejected; refreshing once');
      await this.redis.del(this.tokenKey);
      res = await this.fetchJson(url(await this.token(true)), undefined, form);
    }
    check('/cgi-bin/media/upload', res);
    if (typeof res.media_id !== 'string' || !res.media_id)
      throw new PlatformError('media/upload answered without a media_id', -1, true);
    return res.media_id;
  }

  /**
   * A temporary media file by its media_id (`GET /cgi-bin/media/get`, the picture a person sent the app): the bytes,
   * at most `maxBytes` (MediaError past that). WeCom answers JSON with an errcode instead of the file when it cannot
   * give it; a token error refreshes the token once, as in post().
   */
  async download(mediaId: string, maxBytes: number): Promise<Buffer> {
    const url = (token: string) =>
      `${this.base}/cgi-bin/media/get?access_token=${encodeURIComponent(token)}&media_id=${encodeURIComponent(mediaId)}`;
    let res = await download(url(await this.token()), maxBytes, this.timeoutMs * 2);
    let err = errorOf(res);
    if (err && TOKEN_ERRORS.has(err.errcode)) {
      this.log.info({ path: '/cgi-bin/media/get', errcode: err.errcode }, 'wecom token rejected; refreshing once');
      await this.redis.del(this.tokenKey);
      res = await download(url(await this.token(true)), maxBytes, this.timeoutMs * 2);
      err = errorOf(res);
    }
    if (err) check('/cgi-bin/media/get', err);
    if (res.status < 200 || res.status >= 300)
      throw new PlatformError(`HTTP ${res.status} from /cgi-bin/media/get`, -1, res.status >= 500);
    return res.body;
  }

  /** POST to a full URL that carries its own credential (webhook key, response_url). */
  async postUrl(url: string, body: unknown): Promise<WecomReply> {
    return check(safeUrl(url), await this.fetchJson(url, body));
  }

  private async fetchJson(url: string, body: unknown, form?: () => FormData): Promise<WecomReply> {
    let status: number;
    let text: string;
    try {
      if (form) {
        // Multipart uploads stay on fetch, which writes the boundary; they are rare (weekly charts).
        const res = await fetch(url, { method: 'POST', body: form(), signal: AbortSignal.timeout(this.timeoutMs) });
        status = res.status;
        text = await res.text();
      } else {
        ({ status, text } = await requestJson(url, body, this.timeoutMs));
      }
    } catch (e) {
      throw new PlatformError(`request to ${safeUrl(url)} failed: ${(e as Error).message}`, -1, true);
    }
    const res = { ok: status >= 200 && status < 300, status };
    if (!res.ok)
      throw new PlatformError(`HTTP ${res.status} from ${safeUrl(url)}`, -1, res.status >= 500 || res.status === 429);
    try {
      return JSON.parse(text) as WecomReply;
    } catch {
      throw new PlatformError(`non-JSON answer from ${safeUrl(url)}`, -1, true);
    }
  }
}

/** media/get answers JSON with an errcode instead of the file when it cannot give it. */
function errorOf(res: Downloaded): WecomReply | undefined {
  const looksJson = /json|text\/plain/i.test(res.contentType) || res.body.subarray(0, 1).toString() === '{';
  if (!looksJson || res.body.length > 4096) return undefined;
  try {
    const r = JSON.parse(res.body.toString('utf8')) as WecomReply;
    return typeof r.errcode === 'number' && r.errcode !== 0 ? r : undefined;
  } catch {
    return undefined;
  }
}

function check(where: string, res: WecomReply): WecomReply {
  if (res.errcode === 0 || res.errcode === undefined) return res;
  throw new PlatformError(
    `${where}: ${res.errcode} ${res.errmsg}`,
    res.errcode,
    RETRYABLE.has(res.errcode) || TOKEN_ERRORS.has(res.errcode),
    THROTTLED.has(res.errcode) ? 60_000 : undefined,
  );
}
