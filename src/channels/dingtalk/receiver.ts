// The enterprise robot's message callback in HTTP mode, `POST /dingtalk/robot`
// (https://open.dingtalk.com/document/orgapp/receive-message): signed headers, a JSON body, group messages that @ the
// robot and 1:1 messages. A message becomes an Envelope and goes through the same durable hand-off as WeCom's; the
// answer is an immediate 200 `{}` — replies go out later through the sessionWebhook or the robot API (sender.ts).
// Stream mode (stream-receiver.ts) takes the same message body through takeRobotMessage.
import { VerificationError, StaleRequestError } from '../../errors.js';
import type { DingtalkSettings } from '../../config/load.js';
import type { CallbackAnswer, CallbackRequest, CallbackRoute } from '../../http/callbacks.js';
import type { Envelope } from '../envelope.js';
import type { Ingress } from '../ingress.js';
import { picturesOf } from './pictures.js';
import { verifyRobotSign } from './sign.js';

export const ROBOT_PATH = '/dingtalk/robot';

/** A msgId is remembered this long against repeated deliveries (DingTalk resends an unanswered message after ~60 s). */
const MSG_TTL_MS = 24 * 3600 * 1000;

const ok: CallbackAnswer = { status: 200, body: '{}', type: 'json' };

/** Groups already named in the log by this process: an admin reads a group's conversationId there once. */
const groupsSeen = new Set<string>();

export function robotRoutes(ingress: Ingress, s: Pick<DingtalkSettings, 'appSecret'>): CallbackRoute[] {
  return [
    {
      method: 'POST',
      path: ROBOT_PATH,
      handle: async (req) => {
        try {
          return await receive(req, ingress, s.appSecret);
        } catch (e) {
          return refuseCallback(req, ingress, e, 'robot');
        }
      },
    },
  ];
}

async function receive(req: CallbackRequest, ingress: Ingress, secret: string): Promise<CallbackAnswer> {
  // Headers first: a forged or stale request is refused before its body is read.
  verifyRobotSign(req.header?.('timestamp'), req.header?.('sign'), secret, ingress.now(), ingress.maxSkewMs);
  const text = await req.body(ingress.bodyLimitBytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new VerificationError('body is not JSON', 400);
  }
  if (!body || typeof body !== 'object') throw new VerificationError('body is not a JSON object', 400);
  await takeRobotMessage(body as RobotMessage, ingress);
  return ok;
}

/**
 * A robot message, from either mode (the HTTP body and the Stream frame's `data` are the same JSON): resolves once
 * it is safe in Redis, or known as seen before, or not for us. Throws VerificationError for a message without its
 * ids; any other rejection means the hand-off failed and the message must come again. The dedupe key is shared by
 * both modes and every instance, so a message DingTalk delivers twice — to us or to another instance — is handled once.
 */
export async function takeRobotMessage(m: RobotMessage, ingress: Ingress): Promise<void> {
  const env = toEnvelope(m, ingress.now());
  if (!env) {
    ingress.log.info({ msgtype: str(m.msgtype) }, 'dingtalk robot message of a kind not handled; ignored');
    return;
  }
  // The msgId check rides with the durable hand-off: a message seen before writes nothing.
  const fresh = await ingress.accept(env, { key: `dingtalk:msg:${env.msgId}`, ttlMs: MSG_TTL_MS });
  if (!fresh) ingress.log.warn({ msgId: env.msgId }, 'dingtalk robot message delivered again; ignored');
  else if (env.chat.type === 'group' && !groupsSeen.has(env.chat.id) && groupsSeen.size < 10_000) {
    groupsSeen.add(env.chat.id);
    ingress.log.info(
      { conversationId: env.chat.id, title: str(m.conversationTitle) },
      'dingtalk group (put its conversationId in chats[].dingtalk in the config)',
    );
  }
}

/** A callback that cannot be taken, answered with a status that says why and logged without its body. */
export function refuseCallback(
  req: CallbackRequest,
  ingress: Ingress,
  err: unknown,
  surface: 'robot' | 'card',
): CallbackAnswer {
  const e = err as { statusCode?: number; type?: string; message?: string };
  let status = 500;
  if (err instanceof VerificationError) status = err.status;
  else if (err instanceof StaleRequestError) status = 403;
  else if (e.type === 'entity.too.large') status = 413;
  else if (e.statusCode && e.statusCode < 500) status = e.statusCode;
  const level = status >= 500 ? 'error' : 'warn';
  ingress.log[level]({ surface, status, reason: e.message, ip: req.ip }, 'dingtalk callback refused');
  return { status, body: status === 413 ? 'payload too large' : status >= 500 ? 'internal error' : 'refused' };
}

/** The fields we read; DingTalk sends more (conversationTitle, senderNick, atUsers …), all ignored. */
export interface RobotMessage {
  msgId?: unknown;
  msgtype?: unknown;
  conversationId?: unknown;
  conversationType?: unknown;
  conversationTitle?: unknown;
  senderStaffId?: unknown;
  senderId?: unknown;
  sessionWebhook?: unknown;
  sessionWebhookExpiredTime?: unknown;
  text?: { content?: unknown };
  content?: { richText?: unknown; recognition?: unknown };
}

const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** The robot's @-name is removed by DingTalk but a leading space stays; a client may still leave "@名字 " in front. */
export function cleanText(s: string): string {
  return s.replace(/^\s*(?:@\S+\s+)*/u, '').trim();
}

export function toEnvelope(m: RobotMessage, now: number): Envelope | undefined {
  const msgId = str(m.msgId);
  const conversationId = str(m.conversationId);
  const staffId = str(m.senderStaffId);
  if (!msgId || !conversationId) throw new VerificationError('message lacks msgId or conversationId', 400);
  if (!staffId) {
    // External members (and a robot not yet published) come without a staffId: nobody we can name.
    return undefined;
  }
  const type = str(m.msgtype);
  let text: string | undefined;
  let voice: true | undefined;
  if (type === 'text') text = cleanText(str(m.text?.content));
  else if (type === 'richText') {
    const parts = Array.isArray(m.content?.richText) ? (m.content.richText as { text?: unknown }[]) : [];
    text = cleanText(parts.map((p) => str(p?.text)).join(''));
  } else if (type === 'audio' && str(m.content?.recognition)) {
    text = str(m.content?.recognition).trim();
    voice = true;
  }
  const images = picturesOf(m);
  if (!text && !images.length) return undefined;
  const hook = str(m.sessionWebhook);
  const expires = Number(m.sessionWebhookExpiredTime);
  return {
    id: `dingtalk:robot:${msgId}`,
    channel: 'dingtalk',
    surface: 'robot',
    msgId,
    chat: { id: conversationId, type: str(m.conversationType) === '2' ? 'group' : 'single' },
    sender: { platformId: staffId },
    ...(text ? { text: text.slice(0, 4000) } : {}),
    ...(images.length ? { images } : {}),
    ...(voice ? { voice } : {}),
    ...(/^https?:\/\//.test(hook) ? { responseUrl: hook } : {}),
    ...(/^https?:\/\//.test(hook) && Number.isFinite(expires) && expires > 0 ? { responseUrlExpiresAt: expires } : {}),
    receivedAt: now,
  };
}
