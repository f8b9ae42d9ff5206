// The worker's first step for a received message with pictures: fetch each picture from its platform, check it and
// keep it in the media folder, so that the message the task service sees names stored photos by hash (or says why a
// picture could not be kept). It runs in the workers, not in the HTTP receiver: a download takes up to seconds and
// the receiver answers WeCom in milliseconds; WeCom's picture URLs live 5 minutes, and a message waits in the stream
// for milliseconds, so "at once in the worker" is well within that.
//
// What each message's pictures became is remembered a day (PhotoStore.resolved), so a retry of a message whose
// handling failed after the download does not fetch a URL that may have expired meanwhile.
import type { Envelope, ImageRef } from './envelope.js';
import type { Logger } from '../log.js';
import { MediaError, mb, type MediaStore } from '../store/media.js';
import type { PhotoStore } from '../store/photos.js';

/** A channel's way to get a picture's bytes (decrypted). Throws MediaError for a picture that cannot be had. */
export interface MediaFetcher {
  fetch(env: Envelope, image: ImageRef): Promise<Buffer>;
}

export class PhotoIntake {
  constructor(
    private media: MediaStore,
    private photos: PhotoStore,
    /** By channel name (envelope.channel). */
    private fetchers: Record<string, MediaFetcher | undefined>,
    private log: Logger,
  ) {}

  /** The envelope with every picture stored (hash, mime, size) or marked (error); unchanged without pictures. */
  async resolve(env: Envelope): Promise<Envelope> {
    const images = env.images;
    if (!images?.length || images.every((i) => i.hash || i.error)) return env;
    const done = await this.photos.resolved<ImageRef[]>(env.id);
    if (done) return { ...env, images: done };
    const out: ImageRef[] = [];
    for (const [i, image] of images.entries()) out.push(await this.one(env, image, i));
    await this.photos.setResolved(env.id, out);
    return { ...env, images: out };
  }

  private async one(env: Envelope, image: ImageRef, index: number): Promise<ImageRef> {
    if (image.hash || image.error) return image;
    const where = { id: env.id, channel: env.channel, surface: env.surface, picture: index + 1 };
    const limit = this.media.maxBytes;
    try {
      const fetcher = this.fetchers[env.channel];
      if (!fetcher) throw new MediaError('unreadable', `no way to fetch pictures from channel ${env.channel}`);
      const stored = await this.media.put(await fetcher.fetch(env, image));
      this.log.info({ ...where, hash: stored.hash, bytes: stored.size }, 'photo stored');
      return { hash: stored.hash, mime: stored.mime, size: stored.size };
    } catch (e) {
      if (!(e instanceof MediaError)) {
        // A local failure (the media folder unwritable, a bug): the picture is lost, say so, handle the text.
        this.log.error({ ...where, err: (e as Error).message }, 'photo could not be stored: check HOUQIN_MEDIA_DIR');
        return { error: 'unreadable' };
      }
      if (e.reason === 'too_big') {
        this.log.warn(
          { ...where, bytes: e.size, limit },
          `photo refused: ${e.size ? mb(e.size) : 'it'} is over the ${mb(limit)} limit (HOUQIN_MEDIA_MAX_BYTES)`,
        );
        return { error: 'too_big', limit, ...(e.size ? { size: e.size } : {}) };
      }
      this.log.warn({ ...where, reason: e.message }, `photo unreadable: ${e.message}`);
      return { error: 'unreadable' };
    }
  }
}
