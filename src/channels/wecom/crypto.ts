// WXBizMsgCrypt for callbacks (protocols/wecom.md §2): SHA1 signature over the sorted four strings, AES-256-CBC
// with PKCS#7 to 32 bytes. @wecom/crypto seals (tests, URL checks) and is the reference the tests hold us to; we add
// the checks it leaves out: constant-time signature comparison, the receive id, and length sanity.
//
// Checking and opening run on every callback, so they create no per-request native object: each createHash or
// createDecipheriv is a weak handle V8 must process in the next scavenge, and at 1 000 callbacks/s that doubled
// the receiver's CPU per request and made its young-generation pauses several milliseconds long (bench/README.md).
// Hence the one-shot crypto.hash, and CBC decryption done as one shared AES-256-ECB decipher plus the XOR chain.
import { createDecipheriv, hash, timingSafeEqual, type Decipher } from 'node:crypto';
import { encrypt } from '@wecom/crypto';
import { VerificationError } from '../../errors.js';

export interface CallbackKeys {
  token: string;
  aesKey: string; // EncodingAESKey, 43 chars
  receiveId: string; // corp id for the app, "" for the AI bot
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time independent of where a differs.
  if (x.length !== y.length) {
    timingSafeEqual(y, y);
    return false;
  }
  return timingSafeEqual(x, y);
}

export function sign(token: string, timestamp: string, nonce: string, encrypted: string): string {
  return hash('sha1', [token, timestamp, nonce, encrypted].sort().join(''), 'hex');
}

export function verifySignature(
  keys: CallbackKeys,
  signature: string,
  timestamp: string,
  nonce: string,
  encrypted: string,
): void {
  if (!signature || !timestamp || !nonce || !encrypted)
    throw new VerificationError('missing signature, timestamp, nonce or encrypted field');
  if (!safeEqualHex(sign(keys.token, timestamp, nonce, encrypted), signature))
    throw new VerificationError('signature mismatch');
}

/** Decrypts and checks the receive id. URL-decoding may turn '+' into ' ' (protocols/wecom.md §7.6). */
export function open(keys: CallbackKeys, encrypted: string): string {
  const b64 = encrypted.replace(/ /g, '+');
  // Node's decoder skips what is not base64, so a decoded length short of what the text's length promises is the
  // check (a regular expression over every callback's kilobyte cost more than the decryption).
  const data = Buffer.from(b64, 'base64');
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  if (b64.length === 0 || b64.length % 4 !== 0 || data.length !== (b64.length / 4) * 3 - padding)
    throw new VerificationError('encrypted field is not base64', 400);
  const out = decryptChecked(keys.aesKey, data);
  if (out.id !== keys.receiveId)
    throw new VerificationError(`receive id mismatch (got ${JSON.stringify(out.id.slice(0, 40))})`);
  return out.message;
}

export function seal(keys: CallbackKeys, message: string, random?: Buffer): string {
  return encrypt(keys.aesKey, message, keys.receiveId, random);
}

/**
 * @wecom/crypto's decrypt accepts a bad pad byte and an over-long msg_len (then the receive id comes out as ""
 * — exactly the AI bot's expected id). Decrypting here lets us reject both (WxJava PR #3759 hardened the same).
 */
function decryptChecked(aesKey: string, data: Buffer): { message: string; id: string } {
  const c = cipherFor(aesKey);
  if (data.length === 0 || data.length % 16 !== 0)
    throw new VerificationError('ciphertext length is not a multiple of the block size', 400);
  const plain = decryptCbc(c, data);
  const pad = plain[plain.length - 1];
  if (pad < 1 || pad > 32 || pad > plain.length) throw new VerificationError('bad padding after decrypt', 400);
  const body = plain.subarray(0, plain.length - pad);
  if (body.length < 20) throw new VerificationError('decrypted message too short', 400);
  const len = body.readUInt32BE(16);
  if (len > body.length - 20) throw new VerificationError('decrypted message length out of range', 400);
  return { message: body.subarray(20, 20 + len).toString('utf8'), id: body.subarray(20 + len).toString('utf8') };
}

// Per EncodingAESKey, decoded once: the key and one ECB decipher, kept. Without padding and fed whole blocks the
// decipher holds no state between calls.
interface Cipher {
  key: Buffer;
  ecb: Decipher;
}
const ciphers = new Map<string, Cipher>();

function cipherFor(aesKey: string): Cipher {
  let c = ciphers.get(aesKey);
  if (!c) {
    const key = Buffer.from(aesKey + '=', 'base64');
    if (key.length !== 32) throw new VerificationError('EncodingAESKey does not decode to 32 bytes', 500);
    const ecb = createDecipheriv('aes-256-ecb', key, null);
    ecb.setAutoPadding(false);
    c = { key, ecb };
    ciphers.set(aesKey, c);
  }
  return c;
}

/** AES-256-CBC decryption, IV = first 16 bytes of the key, no padding removed: P[i] = D(C[i]) xor C[i-1]. */
function decryptCbc({ key, ecb }: Cipher, data: Buffer): Buffer {
  const out = ecb.update(data); // data.length is a non-zero multiple of 16 (checked by the caller)
  for (let i = out.length - 1; i >= 16; i--) out[i] ^= data[i - 16];
  for (let i = 0; i < 16; i++) out[i] ^= key[i];
  return out;
}

/**
 * A picture or file an AI-bot callback points to (wecom.md §3.2): its bytes are AES-256-CBC with the callback's
 * EncodingAESKey (or, in long-connection mode, the `aeskey` given next to the url), IV = the key's first 16 bytes,
 * PKCS#7-padded to 32-byte blocks — the same scheme as callbacks, without the random prefix, length or receive id.
 * Throws on a wrong key or damaged data (the padding does not check out).
 */
export function decryptMedia(aesKey: string, data: Buffer): Buffer {
  const key = Buffer.from(aesKey + (aesKey.length === 43 ? '=' : ''), 'base64');
  if (key.length !== 32) throw new Error('the media key does not decode to 32 bytes');
  if (data.length === 0 || data.length % 16 !== 0) throw new Error('encrypted media length is not a multiple of 16');
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(data), d.final()]);
  const pad = plain[plain.length - 1];
  if (pad < 1 || pad > 32 || pad > plain.length) throw new Error('bad padding after decrypting media');
  for (let i = plain.length - pad; i < plain.length; i++)
    if (plain[i] !== pad) throw new Error('bad padding after decrypting media');
  return plain.subarray(0, plain.length - pad);
}
