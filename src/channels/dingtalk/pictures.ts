// The pictures a robot message carries (https://open.dingtalk.com/document/orgapp/receive-message): a `picture`
// message has `content.downloadCode` (and `pictureDownloadCode`); a `richText` message has parts
// `{type: "picture", downloadCode}` among its text. Only the code travels in the Envelope; the worker exchanges it for
// the bytes (media.ts) before the message is handled.
import type { ImageRef } from '../envelope.js';

const MAX_PICTURES = 9;

export function picturesOf(m: { msgtype?: unknown; content?: unknown }): ImageRef[] {
  const content = (m.content && typeof m.content === 'object' ? m.content : {}) as Record<string, unknown>;
  const codes: unknown[] = [];
  if (m.msgtype === 'picture') codes.push(content.downloadCode || content.pictureDownloadCode);
  else if (m.msgtype === 'richText' && Array.isArray(content.richText))
    for (const part of content.richText as Record<string, unknown>[])
      if (part?.type === 'picture') codes.push(part.downloadCode || part.pictureDownloadCode);
  return codes
    .filter((c): c is string => typeof c === 'string' && c.length > 0 && c.length <= 4096)
    .slice(0, MAX_PICTURES)
    .map((downloadCode) => ({ downloadCode }));
}
