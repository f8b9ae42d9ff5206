// The frames of the AI bot's long-connection mode (protocols/wecom.md §3.7, https://developer.work.weixin.qq.com/
// document/path/101463): `{cmd, headers: {req_id}, body}` both ways; WeCom answers each of ours with an ack
// `{headers: {req_id}, errcode, errmsg, body?}` carrying the same req_id. Shapes only; the socket is in connection.ts.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const CMD = {
  subscribe: 'aibot_subscribe',
  ping: 'ping',
  msgCallback: 'aibot_msg_callback',
  eventCallback: 'aibot_event_callback',
  respond: 'aibot_respond_msg',
  respondWelcome: 'aibot_respond_welcome_msg',
  respondUpdate: 'aibot_respond_update_msg',
  send: 'aibot_send_msg',
  uploadInit: 'aibot_upload_media_init',
  uploadChunk: 'aibot_upload_media_chunk',
  uploadFinish: 'aibot_upload_media_finish',
} as const;

/** A frame from WeCom: a callback (with `cmd`) or an ack of one of ours (without). Unknown fields are kept. */
export const incomingSchema = z.looseObject({
  cmd: z.string().optional(),
  headers: z.looseObject({ req_id: z.string().min(1) }),
  body: z.unknown().optional(),
  errcode: z.number().optional(),
  errmsg: z.string().optional(),
});
export type Incoming = z.infer<typeof incomingSchema>;

/** An ack: errcode 0 is success; `body` carries results (upload_id, media_id). */
export interface Ack {
  reqId: string;
  errcode: number;
  errmsg: string;
  body?: Record<string, unknown>;
}

export function ackOf(f: Incoming): Ack {
  return {
    reqId: f.headers.req_id,
    errcode: f.errcode ?? 0,
    errmsg: f.errmsg ?? '',
    body: f.body && typeof f.body === 'object' ? (f.body as Record<string, unknown>) : undefined,
  };
}

/** Our own req_ids: the command's name, then random hex, so a log line shows what an ack answers. */
export function newReqId(cmd: string): string {
  return `${cmd}_${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
}

export function frame(cmd: string, reqId: string, body?: unknown): string {
  return JSON.stringify(
    body === undefined ? { cmd, headers: { req_id: reqId } } : { cmd, headers: { req_id: reqId }, body },
  );
}

/** chat_type of aibot_send_msg: 1 a single chat (chatid = the person's userid), 2 a group. */
export type ChatType = 1 | 2;

/** Chunks of the media upload: at most 512 KB each before base64, at most 100 of them (wecom.md §3.7). */
export const CHUNK_BYTES = 512 * 1024;
export const MAX_CHUNKS = 100;
