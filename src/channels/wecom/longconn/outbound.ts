// Carrying one outbox message out over the connection, on the instance that holds it (directly, or for another
// instance through relay.ts). A reply goes with aibot_respond_msg on the message's own req_id while that is valid
// (24 h after the message, wecom.md §3.7), once per req_id; after that, or when WeCom refuses the req_id (e.g. after
// a restart on a new connection), it goes as a proactive aibot_send_msg into the same chat.
//
// Each outbox job is carried out once: a per-job lock keeps two instances (a retry racing a slow first try) from
// sending it together, and a "sent" mark written after WeCom's ack makes a later retry of the same job a no-op.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Message } from '../../../domain/messages.js';
import { PlatformError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import type { MediaStore } from '../../../store/media.js';
import { cardTaskId, isJpgOrPng } from '../render.js';
import { NotConnected, type LongConn } from './connection.js';
import { type ChatType, CMD } from './frames.js';
import { longconnBody } from './render.js';
import type { LongconnUploads } from './upload.js';

/** Where a message goes: a chat, and (for a reply) the req_id to answer while it works. */
export interface Route {
  chatid: string;
  chatType: ChatType;
  respond?: { reqId: string; until: number };
}

export interface SendRequest {
  /** Unique per hand-over (relay.ts); the job id is the same on every retry. */
  id: string;
  jobId: string;
  /** The holder does not start a request after this (its sender has given up waiting). */
  deadline: number;
  route: Route;
  message: Message;
}

/** What came of it. `wait`: try again after this long (not a failure). */
export type SendResult =
  | { ok: true; via: 'respond' | 'send' | 'already' }
  | { ok: false; errcode: number; errmsg: string; wait?: number };

/** Our own codes in a SendResult, beside WeCom's errcodes. */
export const NOT_UP = -9001;
export const BUSY = -9002;

const THROTTLED = new Set([45009, 45033]);
const SENT_SECONDS = 7 * 86_400;

export class Outbound {
  constructor(
    private redis: Redis,
    /** `<prefix>:wecom:lc` */
    private keyPrefix: string,
    private uploads: LongconnUploads,
    private log: Logger,
    private media?: MediaStore,
  ) {}

  async perform(conn: LongConn, req: SendRequest): Promise<SendResult> {
    const lock = `${this.keyPrefix}:busy:${req.jobId}`;
    // Short: after a crash mid-send the retry waits this long for the dead process's lock.
    if ((await this.redis.set(lock, req.id, 'PX', 15_000, 'NX')) !== 'OK')
      return { ok: false, errcode: BUSY, errmsg: 'being sent by another try', wait: 2_000 };
    try {
      const sent = `${this.keyPrefix}:sent:${req.jobId}`;
      if (await this.redis.exists(sent)) return { ok: true, via: 'already' };
      const result = await this.carry(conn, req);
      if (result.ok) await this.redis.set(sent, result.via, 'EX', SENT_SECONDS);
      return result;
    } catch (e) {
      if (e instanceof NotConnected) return { ok: false, errcode: NOT_UP, errmsg: e.message, wait: 2_000 };
      if (e instanceof PlatformError)
        return {
          ok: false,
          errcode: e.errcode,
          errmsg: e.message,
          ...(e.retryable ? { wait: THROTTLED.has(e.errcode) ? 60_000 : 5_000 } : {}),
        };
      // An ack that never came: WeCom may or may not have taken it. Trying again risks a repeat, not a loss.
      return { ok: false, errcode: -1, errmsg: (e as Error).message, wait: 5_000 };
    } finally {
      await this.redis.del(lock).catch(() => undefined);
    }
  }

  private async carry(conn: LongConn, req: SendRequest): Promise<SendResult> {
    const { route, message } = req;
    const unique = createHash('sha1').update(req.jobId).digest('hex').slice(0, 16);
    const body = longconnBody(message, {
      taskId: cardTaskId(message.type === 'card' ? message.card.ref : 'm', unique),
      mediaId: await this.picture(conn, message),
    });
    if (route.respond && Date.now() < route.respond.until && (await this.firstUse(route.respond.reqId, req.jobId))) {
      const ack = await conn.request(CMD.respond, body, route.respond.reqId);
      if (ack.errcode === 0) return { ok: true, via: 'respond' };
      if (THROTTLED.has(ack.errcode)) return { ok: false, errcode: ack.errcode, errmsg: ack.errmsg, wait: 60_000 };
      this.log.info(
        { job: req.jobId, errcode: ack.errcode, errmsg: ack.errmsg },
        'wecom long connection: the reply req_id was refused; sending into the chat instead',
      );
    }
    const ack = await conn.request(CMD.send, { chatid: route.chatid, chat_type: route.chatType, ...body });
    if (ack.errcode === 0) return { ok: true, via: 'send' };
    const retryable = ack.errcode === -1 || THROTTLED.has(ack.errcode);
    return {
      ok: false,
      errcode: ack.errcode,
      errmsg: ack.errmsg,
      ...(retryable ? { wait: THROTTLED.has(ack.errcode) ? 60_000 : 5_000 } : {}),
    };
  }

  /**
   * A req_id answers one message once: the first job that claims it answers with it (and keeps it across its own
   * retries); the outcome's other replies go into the chat as proactive messages.
   */
  private async firstUse(reqId: string, jobId: string): Promise<boolean> {
    const key = `${this.keyPrefix}:req:${createHash('sha1').update(reqId).digest('hex')}`;
    if ((await this.redis.set(key, jobId, 'EX', 86_400, 'NX')) === 'OK') return true;
    return (await this.redis.get(key)) === jobId;
  }

  /** A chart or a photo goes as a media_id; a photo that is missing, not JPG/PNG or over 10 MB goes as its words. */
  private async picture(conn: LongConn, m: Message): Promise<string | undefined> {
    if (m.type === 'image') return this.uploads.mediaId(conn, Buffer.from(m.png, 'base64'), 'chart.png');
    if (m.type !== 'photo') return undefined;
    const raw = await this.media?.read(m.photo);
    if (!raw) {
      this.log.warn({ photo: m.photo }, 'photo not found in the media folder; its description goes instead');
      return undefined;
    }
    if (!isJpgOrPng(raw) || raw.length > 10 * 1024 * 1024) return undefined;
    return this.uploads.mediaId(conn, raw, `photo-${m.photo.slice(0, 12)}.${raw[0] === 0x89 ? 'png' : 'jpg'}`);
  }
}
