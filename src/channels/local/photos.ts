// Photos in the console: an upload with a message (POST /console/api/messages with `image`), and GET
// /console/api/photos/<hash>, which serves a stored photo to the page (the chat, the task board) and to the ledger's
// links. Both sit under /console/api, behind the console's token rules (console.ts).
//
// An upload is stored as the request is taken, in the receiver: its bytes are in the request, nothing expires, and
// the envelope then carries the hash — a 10 MB picture never goes through the Redis stream.
import type Router from '@koa/router';
import type { ImageRef } from '../envelope.js';
import { MediaError, type MediaStore } from '../../store/media.js';
import type { Logger } from '../../log.js';

export const photoPath = (hash: string): string => `/console/api/photos/${hash}`;

/** Absolute links to photos, for places outside the page (the Excel ledger). */
export const photoLink =
  (publicUrl: string) =>
  (hash: string): string =>
    `${publicUrl.replace(/\/+$/, '')}${photoPath(hash)}`;

/** The JSON body an upload may have: the picture as base64 (4/3 of its bytes) and the rest of the message. */
export const uploadBodyLimit = (maxBytes: number): number => Math.ceil((maxBytes * 4) / 3) + 64 * 1024;

const DATA_URL = /^data:([\w/+.-]+);base64,/;

/**
 * Stores an uploaded picture given as a data URL ("data:image/jpeg;base64,…") or bare base64. Returns what the
 * envelope carries: the stored photo, or why it was not kept (the worker's service answers that in Chinese).
 */
export async function takeUpload(media: MediaStore, image: string, log?: Logger): Promise<ImageRef> {
  const b64 = image.replace(DATA_URL, '').replace(/\s+/g, '');
  const data = /^[A-Za-z0-9+/]*={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
  try {
    const s = await media.put(data);
    return { hash: s.hash, mime: s.mime, size: s.size };
  } catch (e) {
    if (!(e instanceof MediaError)) throw e;
    if (e.reason === 'too_big') {
      log?.warn({ bytes: data.length, limit: media.maxBytes }, `console photo refused: ${e.message}`);
      return { error: 'too_big', limit: media.maxBytes, size: data.length };
    }
    log?.warn({ bytes: data.length }, `console photo unreadable: ${e.message}`);
    return { error: 'unreadable' };
  }
}

/** GET /console/api/photos/:hash — mount after the console's token check. */
export function mountPhotoRoute(router: Router, media: MediaStore): void {
  router.get('/console/api/photos/:hash', async (ctx) => {
    const found = await media.open(ctx.params.hash);
    if (!found) {
      ctx.status = 404;
      ctx.body = { error: 'no such photo' };
      return;
    }
    ctx.set({
      'Content-Type': found.mime,
      'Content-Length': String(found.size),
      // The name is the content's hash: it never changes. Private: behind the console's token.
      'Cache-Control': 'private, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
    });
    ctx.body = found.stream();
  });
}
