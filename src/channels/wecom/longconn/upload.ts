// Media over the long connection (wecom.md §3.7): aibot_upload_media_init → _chunk × n → _finish gives a media_id
// valid 3 days. Chunks are at most 512 KB before base64 and at most 100; WeCom allows 30 uploads a minute per bot, so
// a media_id is kept (by the bytes' md5) for two and a half days and the same chart sent to several people, or a
// retried send, is uploaded once.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { PlatformError } from '../../../errors.js';
import type { LongConn } from './connection.js';
import { CHUNK_BYTES, CMD, MAX_CHUNKS } from './frames.js';

export class LongconnUploads {
  constructor(
    private redis: Redis,
    /** Key prefix for the media_id cache. */
    private keyPrefix: string,
  ) {}

  async mediaId(conn: LongConn, raw: Buffer, filename: string, type = 'image'): Promise<string> {
    const md5 = createHash('md5').update(raw).digest('hex');
    const key = `${this.keyPrefix}:${md5}`;
    const cached = await this.redis.get(key);
    if (cached) return cached;
    const chunks = Math.max(1, Math.ceil(raw.length / CHUNK_BYTES));
    if (chunks > MAX_CHUNKS)
      throw new PlatformError(`${raw.length} bytes is more than ${MAX_CHUNKS} chunks can carry`, 0, false);
    const init = await conn.request(CMD.uploadInit, {
      type,
      filename,
      total_size: raw.length,
      total_chunks: chunks,
      md5,
    });
    const uploadId = okBody(init, 'upload init').upload_id;
    if (typeof uploadId !== 'string' || !uploadId) throw new PlatformError('upload init gave no upload_id', 0, true);
    for (let i = 0; i < chunks; i++) {
      const part = raw.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES);
      okBody(
        await conn.request(CMD.uploadChunk, {
          upload_id: uploadId,
          chunk_index: i,
          base64_data: part.toString('base64'),
        }),
        `upload chunk ${i}`,
      );
    }
    const id = okBody(await conn.request(CMD.uploadFinish, { upload_id: uploadId }), 'upload finish').media_id;
    if (typeof id !== 'string' || !id) throw new PlatformError('upload finish gave no media_id', 0, true);
    await this.redis.set(key, id, 'EX', 60 * 3600);
    return id;
  }
}

function okBody(
  ack: { errcode: number; errmsg: string; body?: Record<string, unknown> },
  what: string,
): Record<string, unknown> {
  // -1 (busy) and throttling are worth another try later; anything else is a refusal.
  if (ack.errcode !== 0)
    throw new PlatformError(
      `${what} refused: ${ack.errcode} ${ack.errmsg}`,
      ack.errcode,
      [-1, 45009, 45033].includes(ack.errcode),
    );
  return ack.body ?? {};
}
