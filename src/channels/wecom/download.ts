// Downloads a file into memory with a byte cap: a picture larger than the limit is refused as soon as its
// Content-Length (or the bytes received) say so, never read whole. For the pictures people send (media.ts).
import http from 'node:http';
import https from 'node:https';
import { MediaError } from '../../store/media.js';

export interface Downloaded {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Where a URL points, for logs: scheme, host and path, never the query (signatures, tokens). */
export const urlForLog = (url: string): string => {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
};

/**
 * GET `url`. Resolves with any HTTP status (the caller decides); rejects with MediaError('too_big') past `maxBytes`,
 * and with a plain Error when the request fails or takes longer than `timeoutMs` in all.
 */
export function download(url: string, maxBytes: number, timeoutMs = 20_000): Promise<Downloaded> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new Error('not a URL'));
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return Promise.reject(new Error(`${u.protocol} URL`));
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(u, { timeout: timeoutMs }, (res) => {
      const len = Number(res.headers['content-length']);
      const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
      if (ok && Number.isFinite(len) && len > maxBytes) {
        res.destroy();
        reject(new MediaError('too_big', `Content-Length ${len} is over ${maxBytes} bytes`, len));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          res.destroy();
          reject(new MediaError('too_big', `more than ${maxBytes} bytes`, size));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks),
        }),
      );
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
