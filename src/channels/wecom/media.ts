// Pictures people send through WeCom, fetched and decrypted for the worker's intake (src/channels/photo-intake.ts):
// - AI bot (wecom.md §3.2): `image.url` lives 5 minutes; its bytes are AES-256-CBC with the callback's
//   EncodingAESKey (crypto.ts decryptMedia). The key never travels in the message: the worker has it from its
//   settings.
// - Self-built app: the message carries a MediaId, fetched with `media/get` (valid 3 days) as the app (api.ts).
// A network failure or a 5xx is tried three times within a few seconds; an expired URL, a wrong key or something
// that is not a picture is not.
import type { Redis } from 'ioredis';
import type { WecomSettings } from '../../config/load.js';
import { PlatformError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Keys } from '../../store/keys.js';
import { MediaError } from '../../store/media.js';
import type { Envelope, ImageRef } from '../envelope.js';
import type { MediaFetcher } from '../photo-intake.js';
import { WecomApi } from './api.js';
import { decryptMedia } from './crypto.js';
import { download, urlForLog } from './download.js';

const ATTEMPTS = 3;
const PAUSE_MS = [300, 1000];

export class WecomMedia implements MediaFetcher {
  private api?: WecomApi;

  constructor(
    private settings: WecomSettings,
    redis: Redis,
    k: Keys,
    log: Logger,
    private maxBytes: number,
  ) {
    if (settings.app && settings.corpId)
      this.api = new WecomApi(settings.apiBase, settings.corpId, settings.app.secret, redis, k, log);
  }

  async fetch(env: Envelope, image: ImageRef): Promise<Buffer> {
    if (image.mediaId) {
      const api = this.api;
      if (!api) throw new MediaError('unreadable', 'a media_id came but the app (WECOM_APP_*) is not configured');
      return retry(async () => {
        try {
          return await api.download(image.mediaId!, this.maxBytes);
        } catch (e) {
          if (e instanceof PlatformError && !e.retryable)
            throw new MediaError('unreadable', `media/get refused: ${e.message}`);
          throw e;
        }
      });
    }
    if (!image.url) throw new MediaError('unreadable', 'the picture has neither a url nor a media_id');
    const key = image.aesKey ?? (env.surface === 'aibot' ? this.settings.aibot?.aesKey : undefined);
    // AES-CBC adds at most one 32-byte block of padding.
    const raw = await retry(async () => {
      const res = await download(image.url!, this.maxBytes + (key ? 32 : 0));
      if (res.status >= 500) throw new Error(`HTTP ${res.status} from ${urlForLog(image.url!)}`);
      if (res.status < 200 || res.status >= 300)
        throw new MediaError(
          'unreadable',
          `HTTP ${res.status} from ${urlForLog(image.url!)} (the link lives 5 minutes)`,
        );
      return res.body;
    });
    if (!key) return raw;
    let plain: Buffer;
    try {
      plain = decryptMedia(key, raw);
    } catch (e) {
      throw new MediaError('unreadable', `could not decrypt the picture: ${(e as Error).message}`);
    }
    if (plain.length > this.maxBytes)
      throw new MediaError('too_big', `${plain.length} bytes after decryption`, plain.length);
    return plain;
  }
}

/** MediaErrors are final; anything else (network, 5xx) is tried again, then becomes "unreadable". */
async function retry<T>(fn: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < ATTEMPTS; i++) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof MediaError) throw e;
      last = e;
      if (i < ATTEMPTS - 1) await new Promise((r) => setTimeout(r, PAUSE_MS[i] ?? 1000));
    }
  }
  throw new MediaError('unreadable', `download failed ${ATTEMPTS} times: ${(last as Error)?.message ?? last}`);
}
