// Real, small pictures for the photo tests: a PNG of one colour (valid: browsers and WeCom's byte check take it),
// made as big as a test needs with a private ancillary chunk, and different every time (so each has its own hash).
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A `side`×`side` PNG of one colour, at least `minBytes` long. */
export function png(opts: { side?: number; minBytes?: number; rgb?: [number, number, number] } = {}): Buffer {
  const side = opts.side ?? 16;
  const [r, g, b] = opts.rgb ?? [randomBytes(1)[0], 120, 80];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: side }, () => [r, g, b]).flat())]);
  const raw = Buffer.concat(Array.from({ length: side }, () => row));
  const parts = [
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('tEXt', Buffer.concat([Buffer.from('Comment\0', 'latin1'), Buffer.from(randomBytes(8).toString('hex'))])),
  ];
  const used = parts.reduce((n, p) => n + p.length, 0) + 12 + 12; // the filler chunk's frame, IEND
  if (opts.minBytes && opts.minBytes > used) parts.push(chunk('fILl', randomBytes(opts.minBytes - used)));
  parts.push(chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

export const dataUrl = (b: Buffer, type = 'image/png') => `data:${type};base64,${b.toString('base64')}`;
