// Photos' bytes, in a folder every instance can read (HOUQIN_MEDIA_DIR, default ./data/media): one file per distinct
// picture, named by the SHA-256 of its bytes, under a folder of the hash's first two hex digits
// (data/media/3f/3fa9…). Redis keeps only the hashes (src/store/photos.ts): a picture is up to 10 MB, Redis holds
// everything in memory and in its AOF, and a folder is what backup tools, rsync and shared volumes already know
// (docs/operations.md#photos).
//
// Writes are atomic (a temporary file, then a rename), and a picture already there is not written again, so two
// instances storing the same photo at once, or a retry, are harmless. Only pictures (JPEG, PNG, GIF, WebP, by their
// bytes) up to `maxBytes` are taken.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open as openFile, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export type ImageMime = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';

export interface StoredMedia {
  /** SHA-256 of the bytes, lowercase hex: the file's name and the photo's id everywhere else. */
  hash: string;
  mime: ImageMime;
  size: number;
}

/** Why a picture was not kept: larger than the limit, or not a picture we can read (or could not be fetched). */
export class MediaError extends Error {
  constructor(
    readonly reason: 'too_big' | 'unreadable',
    message: string,
    /** The size seen, when known (too_big). */
    readonly size?: number,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

export const DEFAULT_MEDIA_MAX_BYTES = 10 * 1024 * 1024;
const HASH = /^[0-9a-f]{64}$/;

export const isMediaHash = (s: string): boolean => HASH.test(s);

/** What kind of picture the bytes are, by their first bytes; undefined for anything else. */
export function sniffImage(b: Buffer): ImageMime | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'image/png';
  if (b.length >= 6 && /^GIF8[79]a$/.test(b.subarray(0, 6).toString('latin1'))) return 'image/gif';
  if (
    b.length >= 12 &&
    b.subarray(0, 4).toString('latin1') === 'RIFF' &&
    b.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'image/webp';
  return undefined;
}

/** Megabytes with one decimal, for log lines and replies ("10 MB", "12.3 MB"). */
export function mb(bytes: number): string {
  const v = Math.round((bytes / 1024 / 1024) * 10) / 10;
  return `${v} MB`;
}

export class MediaStore {
  readonly dir: string;

  constructor(
    dir: string,
    readonly maxBytes = DEFAULT_MEDIA_MAX_BYTES,
  ) {
    this.dir = resolve(dir);
  }

  /** Where a picture's file is (or would be). Throws for anything that is not a hash. */
  path(hash: string): string {
    if (!HASH.test(hash)) throw new Error(`not a media hash: ${JSON.stringify(hash.slice(0, 80))}`);
    return join(this.dir, hash.slice(0, 2), hash);
  }

  /** Checks and keeps a picture; the same bytes twice are one file. Throws MediaError. */
  async put(data: Buffer): Promise<StoredMedia> {
    if (data.length > this.maxBytes)
      throw new MediaError('too_big', `${mb(data.length)} is over the ${mb(this.maxBytes)} limit`, data.length);
    const mime = sniffImage(data);
    if (!mime) throw new MediaError('unreadable', 'the bytes are not a JPEG, PNG, GIF or WebP picture', data.length);
    const hash = createHash('sha256').update(data).digest('hex');
    const file = this.path(hash);
    if (!(await this.has(hash))) {
      await mkdir(join(this.dir, hash.slice(0, 2)), { recursive: true });
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, data);
        await rename(tmp, file);
      } catch (e) {
        await unlink(tmp).catch(() => undefined);
        throw e;
      }
    }
    return { hash, mime, size: data.length };
  }

  async has(hash: string): Promise<boolean> {
    try {
      return (await stat(this.path(hash))).isFile();
    } catch {
      return false;
    }
  }

  /** The bytes, or undefined when no such picture is stored. */
  async read(hash: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(hash));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** For serving: what the picture is, its size and a stream of it; undefined when not stored. */
  async open(hash: string): Promise<{ mime: ImageMime; size: number; stream: () => ReadStream } | undefined> {
    if (!HASH.test(hash)) return undefined;
    const file = this.path(hash);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      return undefined;
    }
    const head = Buffer.alloc(12);
    const fh = await openFile(file, 'r');
    try {
      await fh.read(head, 0, 12, 0);
    } finally {
      await fh.close();
    }
    const mime = sniffImage(head);
    if (!mime) return undefined; // never serve something that is not a picture we took
    return { mime, size, stream: () => createReadStream(file) };
  }
}
