// WeCom AI bot (智能机器人) in URL-callback mode: encrypted JSON, receive id "" (protocols/wecom.md §2–§4).
// Transport only: verify, decrypt, turn the payload into an Envelope, answer fast.
import { z } from 'zod';
import { VerificationError } from '../../errors.js';
import type { Envelope, ImageRef } from '../envelope.js';
import type { Ingress } from '../ingress.js';
import { open, seal, sign, type CallbackKeys } from './crypto.js';
import type { CallbackAnswer, CallbackRequest, CallbackRoute } from '../../http/callbacks.js';
import { ok, replayed, surfaceRoutes, verify, type SignedQuery } from './guard.js';
import { buttonCard } from './render.js';
import { help } from '../../domain/tasks/texts.js';

/** A picture's link (5 minutes, encrypted with the callback key; long-connection mode adds its own aeskey). */
const picture = z.object({ url: z.string().optional(), aeskey: z.string().optional() });

export const payloadSchema = z.object({
  msgid: z.string().min(1),
  chatid: z.string().optional(),
  chattype: z.enum(['group', 'single']).optional(),
  from: z.object({ userid: z.string().min(1) }),
  response_url: z.string().optional(),
  msgtype: z.string(),
  text: z.object({ content: z.string() }).optional(),
  voice: z.object({ content: z.string() }).optional(),
  image: picture.optional(),
  mixed: z
    .object({
      msg_item: z.array(
        z.object({
          msgtype: z.string(),
          text: z.object({ content: z.string() }).optional(),
          image: picture.optional(),
        }),
      ),
    })
    .optional(),
  // A reply by quoting: the quoted message's text (protocols: `quote` with its own msgtype and content object).
  quote: z
    .object({
      msgtype: z.string(),
      text: z.object({ content: z.string() }).optional(),
      voice: z.object({ content: z.string() }).optional(),
      mixed: z
        .object({
          msg_item: z.array(z.object({ msgtype: z.string(), text: z.object({ content: z.string() }).optional() })),
        })
        .optional(),
      image: picture.optional(),
    })
    .optional(),
  event: z
    .object({
      eventtype: z.string(),
      // The documented place of the click is event.template_card_event (wecom.md §3.3); the official long-connection
      // SDK's README reads event.event_key instead. Both are read, the documented one first.
      event_key: z.string().optional(),
      task_id: z.string().optional(),
      template_card_event: z
        .object({
          event_key: z.string().optional(),
          eventkey: z.string().optional(),
          task_id: z.string().optional(),
          card_type: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
});
export type Payload = z.infer<typeof payloadSchema>;

/** Group messages start with "@机器人 ": the mention is addressed to us, not part of the command. */
export function stripMention(text: string): string {
  return text.replace(/^(\s*@\S+[\s\u2005\u00a0]*)+/, '').trim();
}

function textOf(p: Payload): string {
  if (p.msgtype === 'text') return stripMention(p.text?.content ?? '');
  if (p.msgtype === 'voice') return p.voice?.content ?? ''; // already transcribed by WeCom: handy with dirty hands
  if (p.msgtype === 'mixed')
    return stripMention(
      (p.mixed?.msg_item ?? [])
        .map((i) => i.text?.content ?? '')
        .filter(Boolean)
        .join(' '),
    );
  if (p.msgtype === 'image') return ''; // the picture is the message (images)
  return `[${p.msgtype}]`;
}

/**
 * The pictures of an image or mixed message, and a quoted picture (in a group, @-ing the bot while quoting a photo
 * someone posted is how a photo reaches us there). Only links here: the worker fetches them (photo-intake.ts).
 */
function imagesOf(p: Payload): { images?: ImageRef[] } {
  if (p.msgtype === 'event' || p.msgtype === 'stream') return {};
  const pics = [
    p.msgtype === 'image' ? p.image : undefined,
    ...(p.msgtype === 'mixed'
      ? (p.mixed?.msg_item ?? []).map((i) => (i.msgtype === 'image' ? i.image : undefined))
      : []),
    p.quote?.msgtype === 'image' ? p.quote.image : undefined,
  ];
  const images = pics
    .filter((x): x is { url: string; aeskey?: string } => !!x?.url)
    .slice(0, 9)
    .map((x) => ({ url: x.url, ...(x.aeskey ? { aesKey: x.aeskey } : {}) }));
  return images.length ? { images } : {};
}

export function aibotRoutes(ingress: Ingress, keys: { token: string; aesKey: string }): CallbackRoute[] {
  const k: CallbackKeys = { ...keys, receiveId: '' };
  return surfaceRoutes('aibot', ingress, k, (req, q) => receive(req, q, ingress, k));
}

async function receive(
  req: CallbackRequest,
  q: SignedQuery,
  ingress: Ingress,
  k: CallbackKeys,
): Promise<CallbackAnswer> {
  const raw = await req.body(ingress.bodyLimitBytes);
  let encrypted: unknown;
  try {
    encrypted = (JSON.parse(raw) as { encrypt?: unknown }).encrypt;
  } catch {
    encrypted = undefined;
  }
  // No encrypted field = not from WeCom. Never read the body as plaintext.
  if (typeof encrypted !== 'string' || !encrypted) throw new VerificationError('body has no "encrypt" field');
  verify(ingress, k, q, encrypted);
  const parsed = payloadSchema.safeParse(JSON.parse(open(k, encrypted)));
  if (!parsed.success)
    throw new VerificationError(`decrypted payload has an unexpected shape: ${parsed.error.issues[0]?.message}`, 400);
  const replay = { key: `aibot:${q.signature}`, ttlMs: ingress.maxSkewMs * 2 };
  const env = toEnvelope(parsed.data, ingress.now());
  const msgid = parsed.data.msgid;
  // Messages: the replay check rides with the durable hand-off, in one Redis call.
  if (env.text !== undefined) return (await ingress.accept(env, replay)) ? ok : replayed(ingress, 'aibot', { msgid });
  if (!(await ingress.firstSight(replay.key, replay.ttlMs))) return replayed(ingress, 'aibot', { msgid });
  try {
    return await handleEvent(ingress, k, q.nonce, parsed.data, env);
  } catch (e) {
    await ingress.forget(replay.key);
    throw e;
  }
}

/** What the payload says, as an Envelope: `text` for messages, `action` for card clicks, neither for other events. */
export function toEnvelope(p: Payload, now: number): Envelope {
  const env: Envelope = {
    id: `wecom:aibot:${p.msgid}`,
    channel: 'wecom',
    surface: 'aibot',
    msgId: p.msgid,
    chat: { id: p.chatid ?? `single:${p.from.userid}`, type: p.chattype ?? 'single' },
    sender: { platformId: p.from.userid },
    responseUrl: p.response_url,
    ...imagesOf(p),
    receivedAt: now,
  };
  if (p.msgtype === 'event') {
    const click = p.event?.eventtype === 'template_card_event' ? (p.event.template_card_event ?? {}) : undefined;
    if (click)
      env.action = {
        key: click.event_key ?? click.eventkey ?? p.event?.event_key ?? '',
        cardRef: click.task_id ?? p.event?.task_id,
      };
    return env;
  }
  if (p.msgtype === 'stream') return env; // refresh polls of a stream; we never start one
  const quote = p.quote ? textOf(p.quote as Payload).slice(0, 2000) : undefined;
  return {
    ...env,
    text: textOf(p),
    ...(quote && !quote.startsWith('[') ? { quote } : {}),
    ...(p.msgtype === 'voice' ? { voice: true as const } : {}),
  };
}

async function handleEvent(
  ingress: Ingress,
  k: CallbackKeys,
  nonce: string,
  p: Payload,
  env: Envelope,
): Promise<CallbackAnswer> {
  if (env.action) {
    const card = await ingress.click(env);
    // The clicked card can only be replaced in this answer, within 5 s, once (wecom.md §4.4).
    const taskId = env.action.cardRef;
    if (card && taskId)
      return reply(k, nonce, {
        response_type: 'update_template_card',
        userids: [p.from.userid],
        template_card: { ...buttonCard(card), task_id: taskId },
      });
  } else if (p.msgtype === 'event' && p.event?.eventtype === 'enter_chat') {
    return reply(k, nonce, { msgtype: 'text', text: { content: help } });
  }
  return ok;
}

/** Encrypted passive reply (wecom.md §2.6): the nonce of the callback, our own timestamp. */
function reply(k: CallbackKeys, nonce: string, plain: unknown): CallbackAnswer {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const encrypt = seal(k, JSON.stringify(plain));
  const body = { encrypt, msgsignature: sign(k.token, timestamp, nonce, encrypt), timestamp: Number(timestamp), nonce };
  return { status: 200, type: 'json', body: JSON.stringify(body) };
}
