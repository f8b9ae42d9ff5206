// Pre-generated callbacks: each line "<path?query>\t<body>[\t<name=value|name=value>]", every one a distinct signed and encrypted
// request (own msgid, nonce, random prefix) built with the real algorithms (test/helpers/wecom-callbacks.ts →
// src/channels/wecom/crypto.ts). Timestamps are "now" at generation: generate right before a run, because the
// real app refuses callbacks older than 300 s.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import { robotMessage, signedHeaders } from '../../test/helpers/fake-dingtalk.js';
import { aibotPost, aibotText, type AibotKeys } from '../../test/helpers/wecom-callbacks.js';

export interface GenOptions {
  keys: AibotKeys;
  count: number;
  /** what the people say; default chatter the bot stays quiet on (no reply to send) */
  content?: (i: number) => string;
  userid?: string;
  chatid?: string;
  responseUrl?: (i: number) => string;
  path?: string;
}

/** Writes `count` lines made by `line` to `file`, in chunks; returns how long it took (ms). */
async function writeLines(file: string, count: number, line: (i: number) => string): Promise<number> {
  const t0 = performance.now();
  const out = createWriteStream(file);
  let buf: string[] = [];
  for (let i = 0; i < count; i++) {
    buf.push(line(i));
    if (buf.length >= 2000) {
      if (!out.write(buf.join(''))) await once(out, 'drain');
      buf = [];
    }
  }
  out.end(buf.join(''));
  await once(out, 'finish');
  return performance.now() - t0;
}

/** Writes `count` requests to `file`; returns how long it took (ms). */
export function writeCallbacks(file: string, o: GenOptions): Promise<number> {
  const tag = randomBytes(4).toString('hex');
  const nonceBase = randomInt(100_000_000, 900_000_000);
  const timestamp = Math.floor(Date.now() / 1000);
  return writeLines(file, o.count, (i) => {
    const payload = aibotText({
      msgid: `bench${tag}${i}`,
      userid: o.userid ?? 'WangLi',
      content: o.content ? o.content(i) : '@后勤助手 谢谢李师傅！',
      chatid: o.chatid ?? 'wrBenchGroup',
      responseUrl: o.responseUrl ? o.responseUrl(i) : 'http://127.0.0.1:9/cgi-bin/aibot/response?response_code=bench',
    });
    const { query, body } = aibotPost(o.keys, payload, { timestamp, nonce: String(nonceBase + i) });
    return `${o.path ?? '/wecom/aibot'}?${query}\t${body}\n`;
  });
}

export interface DingtalkGenOptions {
  appSecret: string;
  robotCode: string;
  count: number;
  /** the sender's DingTalk staff id; default a teacher of config/example.yaml */
  staffId?: string;
}

/**
 * DingTalk robot callbacks (HTTP mode), the same chatter as the WeCom lines: each its own msgId, signed the way
 * DingTalk signs (the `timestamp` and `sign` headers, src/channels/dingtalk/sign.ts). One timestamp for the file, like
 * the WeCom lines: generate right before a run, the app refuses a timestamp older than HOUQIN_MAX_SKEW_SECONDS.
 */
export function writeDingtalkCallbacks(file: string, o: DingtalkGenOptions): Promise<number> {
  const tag = randomBytes(4).toString('hex');
  const h = signedHeaders(o.appSecret);
  const headers = `timestamp=${h.timestamp}|sign=${h.sign}`;
  return writeLines(file, o.count, (i) => {
    const body = robotMessage({
      staffId: o.staffId ?? '02110001',
      text: '谢谢李师傅！',
      conversationId: 'cidBenchGroup',
      msgId: `bench${tag}${i}`,
      robotCode: o.robotCode,
    });
    return `/dingtalk/robot\t${JSON.stringify(body)}\t${headers}\n`;
  });
}
