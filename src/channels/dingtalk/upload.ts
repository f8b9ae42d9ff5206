// Pictures going out through the robot API: uploaded once with oapi media/upload (api.ts), then sent as
// `sampleImageMsg` with the media_id as its photoURL (dingtalk.md §6.1). The same chart goes to the director and
// the managers, and a report's photo to every worker on duty, in parallel outbox jobs, maybe on several instances:
// one uploads, the others wait for its media_id. DingTalk says a media_id stays valid; a third party says three
// days, so it is kept two and a half.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../../store/keys.js';
import type { DingtalkApi } from './api.js';

const KEEP_SEC = 60 * 3600;

export class PictureUploads {
  constructor(
    private api: DingtalkApi,
    private redis: Redis,
    private k: Keys,
    /** The app the media_ids belong to. */
    private appKey: string,
  ) {}

  async mediaId(raw: Buffer, filename: string, contentType: string): Promise<string> {
    const md5 = createHash('md5').update(raw).digest('hex');
    const key = `${this.k.prefix}:dingtalk:media:${this.appKey}:${md5}`;
    const cached = await this.redis.get(key);
    if (cached) return cached;
    const lock = `${key}:lock`;
    if ((await this.redis.set(lock, '1', 'PX', 30_000, 'NX')) !== 'OK') {
      for (let i = 0; i < 300; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const id = await this.redis.get(key);
        if (id) return id;
        if (!(await this.redis.exists(lock))) break;
      }
    }
    try {
      const id = await this.api.upload(filename, raw, contentType);
      await this.redis.set(key, id, 'EX', KEEP_SEC);
      return id;
    } finally {
      await this.redis.del(lock);
    }
  }
}
