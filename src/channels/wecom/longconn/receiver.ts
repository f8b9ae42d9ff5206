// Callbacks over the long connection become Envelopes (wecom.md §3.7): the frame's body is the same JSON as the
// URL-mode callback (aibot.ts), so it takes the same shape and the same durable hand-off with the same dedupe on
// msgid. The frame's req_id rides along in the envelope (replyRef), so the reply answers this very message, after a
// restart too. Nothing is answered before the message is in Redis; WeCom does not deliver a long-connection callback
// again, so a hand-off that fails is retried here for a while before it is given up (and logged).
//
// Card clicks are handled at once and answered with aibot_respond_update_msg on the click's req_id: WeCom takes the
// new card only within 5 s and only on that req_id (wecom.md §4.4). enter_chat is answered with the help text.
import { help } from '../../../domain/tasks/texts.js';
import type { Envelope } from '../../envelope.js';
import type { Ingress } from '../../ingress.js';
import { payloadSchema, toEnvelope } from '../aibot.js';
import { buttonCard } from '../render.js';
import type { SpokenChats } from './chats.js';
import type { LongConn } from './connection.js';
import { CMD, type Incoming } from './frames.js';

/** WeCom takes replies into a conversation for 24 h after its message (wecom.md §3.7); a few minutes of margin. */
export const REPLY_WINDOW_MS = 24 * 3_600_000 - 5 * 60_000;
/** The new card must be back within 5 s of the click. */
const CLICK_ANSWER_MS = 4_500;
const HANDOFF_PAUSES_MS = [200, 500, 1_000, 2_000, 4_000, 8_000];

export interface LongconnReceiver {
  (f: Incoming, conn: LongConn): void;
  /**
   * Resolves once every callback taken so far is handed off (or given up). A stopping process waits for this before
   * it closes Redis: WeCom counts a frame on our socket as delivered and never sends it again, so a message that
   * arrived in the last moments before the socket closed must still reach Redis.
   */
  settled(): Promise<void>;
}

export function longconnReceiver(ingress: Ingress, chats: SpokenChats): LongconnReceiver {
  const inFlight = new Set<Promise<void>>();
  const receive = (f: Incoming, conn: LongConn): void => {
    const p = take(f, conn, ingress, chats)
      .catch((e: Error) =>
        ingress.log.error({ cmd: f.cmd, err: e.message }, 'wecom long connection: a callback was not handled'),
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  return Object.assign(receive, {
    settled: async () => {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  });
}

async function take(f: Incoming, conn: LongConn, ingress: Ingress, chats: SpokenChats): Promise<void> {
  const reqId = f.headers.req_id;
  const parsed = payloadSchema.safeParse(f.body);
  if (!parsed.success) {
    ingress.log.warn(
      { cmd: f.cmd, problem: parsed.error.issues[0]?.message },
      'wecom long connection: a callback body of an unexpected shape; ignored',
    );
    return;
  }
  const p = parsed.data;
  const now = ingress.now();
  const env: Envelope = { ...toEnvelope(p, now), responseUrl: undefined };
  if (f.cmd === CMD.msgCallback) {
    if (env.text === undefined) return; // a stream refresh: we never start a stream
    // The first message from a group names its chatid: what chats[].wecom.chatId wants for posts into it.
    if ((await chats.heard(p.chatid ?? p.from.userid, now)) && p.chatid)
      ingress.log.info(
        { chatid: p.chatid, from: p.from.userid },
        'wecom long connection: first message from this group; the bot may post into it from now on',
      );
    await handOff(ingress, { ...env, replyRef: reqId, replyRefExpiresAt: now + REPLY_WINDOW_MS });
    return;
  }
  // An event's req_id takes only its own answer (the card update, the welcome): other replies to a click go into
  // the chat as proactive messages, so no replyRef here (wecom.md §7.10).
  if (env.action) {
    const card = await ingress.click(env);
    const taskId = env.action.cardRef;
    if (!card || !taskId) return;
    const ack = await conn.request(
      CMD.respondUpdate,
      {
        response_type: 'update_template_card',
        userids: [p.from.userid],
        template_card: { ...buttonCard(card), task_id: taskId },
      },
      reqId,
      CLICK_ANSWER_MS,
    );
    if (ack.errcode !== 0)
      ingress.log.warn({ errcode: ack.errcode, errmsg: ack.errmsg }, 'wecom long connection: card update refused');
    return;
  }
  if (p.event?.eventtype === 'enter_chat') {
    const ack = await conn.request(CMD.respondWelcome, { msgtype: 'text', text: { content: help } }, reqId);
    if (ack.errcode !== 0)
      ingress.log.info({ errcode: ack.errcode }, 'wecom long connection: the welcome message was refused');
  }
}

async function handOff(ingress: Ingress, env: Envelope): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await ingress.accept(env);
      return;
    } catch (e) {
      const pause = HANDOFF_PAUSES_MS[i];
      if (pause === undefined) throw e;
      ingress.log.warn({ msgid: env.msgId, err: (e as Error).message }, 'hand-off failed; trying again');
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}
