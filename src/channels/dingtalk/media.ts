// Pictures people send the robot, fetched for the worker's intake (src/channels/photo-intake.ts): the message's
// downloadCode is exchanged for a short-lived link with `POST /v1.0/robot/messageFiles/download`
// {downloadCode, robotCode} → {downloadUrl} (https://open.dingtalk.com/document/orgapp/download-the-file-content-of-the-robot-receiving-message),
// then the link is read with a byte cap. A network failure or a 5xx is tried three times within a few seconds; a
// refused code (expired, not ours) is not.
import type { Redis } from 'ioredis';
import type { DingtalkSettings } from '../../config/load.js';
import { PlatformError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Keys } from '../../store/keys.js';
import { MediaError } from '../../store/media.js';
import type { Envelope, ImageRef } from '../envelope.js';
import type { MediaFetcher } from '../photo-intake.js';
import { download, urlForLog } from '../wecom/download.js';
import { DingtalkApi } from './api.js';

const ATTEMPTS = 3;
const PAUSE_MS = [300, 1000];

export class DingtalkMedia implements MediaFetcher {
  private api: DingtalkApi;

  constructor(
    private settings: DingtalkSettings,
    redis: Redis,
    k: Keys,
    log: Logger,
    private maxBytes: number,
  ) {
    this.api = new DingtalkApi(settings.apiBase, settings.appKey, settings.appSecret, redis, k, log);
  }

  async fetch(_env: Envelope, image: ImageRef): Promise<Buffer> {
    const code = image.downloadCode;
    if (!code) throw new MediaError('unreadable', 'the picture has no downloadCode');
    return retry(async () => {
      let res: Record<string, unknown>;
      try {
        res = await this.api.post('/v1.0/robot/messageFiles/download', {
          downloadCode: code,
          robotCode: this.settings.robotCode,
        });
      } catch (e) {
        if (e instanceof PlatformError && !e.retryable)
          throw new MediaError('unreadable', `messageFiles/download refused: ${e.message}`);
        throw e;
      }
      const url = res.downloadUrl;
      if (typeof url !== 'string' || !/^https?:\/\//.test(url))
        throw new MediaError('unreadable', 'messageFiles/download answered without a downloadUrl');
      const got = await download(url, this.maxBytes);
      if (got.status >= 500) throw new Error(`HTTP ${got.status} from ${urlForLog(url)}`);
      if (got.status < 200 || got.status >= 300)
        throw new MediaError('unreadable', `HTTP ${got.status} from ${urlForLog(url)}`);
      return got.body;
    });
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
