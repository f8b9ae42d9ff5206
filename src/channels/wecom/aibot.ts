// WeCom AI bot (智能机器人) in URL-callback mode: encrypted JSON, receive id "" (protocols/wecom.md §2–§4).
// Transport only: verify, decrypt, turn the payload into an Envelope, answer fast.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { VerificationError } from '../../errors.js';
import type { Envelope } from '../envelope.js';
import type { Ingress } from '../ingress.js';
import { open, seal, sign, type CallbackKeys } from './crypto.js';
import { readBody, refuse, signedQuery, urlCheck, verify } from './guard.js';
import { buttonCard } from './render.js';
import { help } from '../../domain/texts.js';

const payloadSchema = z.object({
  msgid: z.string().min(1),
  chatid: z.string().optional(),
  chattype: z.enum(['group', 'single']).optional(),
  from: z.object({ userid: z.string().min(1) }),
  response_url: z.string().optional(),
  msgtype: z.string(),
  text: z.object({ content: z.string() }).optional(),
  voice: z.object({ content: z.string() }).optional(),
  mixed: z.object({ msg_item: z.array(z.object({ msgtype: z.string(), text: z.object({ content: z.string() }).optional() })) }).optional(),
  event: z
    .object({
      eventtype: z.string(),
      template_card_event: z.object({ event_key: z.string().optional(), eventkey: z.string().optional(), task_id: z.string().optional(), card_type: z.string().optional() }).optional(),
    })
    .optional(),
});
type Payload = z.infer<typeof payloadSchema>;

/** Group messages start with "@机器人 ": the mention is addressed to us, not part of the command. */
export function stripMention(text: string): string {
  return text.replace(/^(\s*@\S+[\s\u2005\u00a0]*)+/, '').trim();
}

function textOf(p: Payload): string {
  if (p.msgtype === 'text') return stripMention(p.text?.content ?? '');
  if (p.msgtype === 'voice') return p.voice?.content ?? ''; // already transcribed by WeCom: handy with dirty hands
  if (p.msgtype === 'mixed') return stripMention((p.mixed?.msg_item ?? []).map((i) => i.text?.content ?? '').join(' '));
  return `[${p.msgtype}]`;
}

export function mountAibot(router: Router, ingress: Ingress, keys: { token: string; aesKey: string }): void {
  const k: CallbackKeys = { ...keys, receiveId: '' };

  router.get('/wecom/aibot', urlCheck(ingress, k, 'aibot'));

  router.post('/wecom/aibot', async (ctx) => {
    try {
      const q = signedQuery(ctx);
      const raw = await readBody(ctx, ingress.bodyLimitBytes);
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
      if (!parsed.success) throw new VerificationError(`decrypted payload has an unexpected shape: ${parsed.error.issues[0]?.message}`, 400);
      const replay = { key: `aibot:${q.signature}`, ttlMs: ingress.maxSkewMs * 2 };
      const env = toEnvelope(parsed.data, ingress.now());
      // Messages: the replay check rides with the durable hand-off, in one Redis call.
      if (env.text !== undefined) {
        if (await ingress.accept(env, replay)) return ok(ctx);
        return replayed(ctx, ingress, parsed.data.msgid);
      }
      if (!(await ingress.firstSight(replay.key, replay.ttlMs))) return replayed(ctx, ingress, parsed.data.msgid);
      try {
        await handleEvent(ctx, ingress, k, q.nonce, parsed.data, env);
      } catch (e) {
        await ingress.forget(replay.key);
        throw e;
      }
    } catch (e) {
      refuse(ctx, ingress, 'aibot', e);
    }
  });
}

/** What the payload says, as an Envelope: `text` for messages, `action` for card clicks, neither for other events. */
function toEnvelope(p: Payload, now: number): Envelope {
  const env: Envelope = {
    id: `wecom:aibot:${p.msgid}`,
    channel: 'wecom',
    surface: 'aibot',
    msgId: p.msgid,
    chat: { id: p.chatid ?? `single:${p.from.userid}`, type: p.chattype ?? 'single' },
    sender: { platformId: p.from.userid },
    responseUrl: p.response_url,
    receivedAt: now,
  };
  if (p.msgtype === 'event') {
    const click = p.event?.eventtype === 'template_card_event' ? (p.event.template_card_event ?? {}) : undefined;
    if (click) env.action = { key: click.event_key ?? click.eventkey ?? '', cardRef: click.task_id };
    return env;
  }
  if (p.msgtype === 'stream') return env; // refresh polls of a stream; we never start one
  return { ...env, text: textOf(p) };
}

async function handleEvent(ctx: Context, ingress: Ingress, k: CallbackKeys, nonce: string, p: Payload, env: Envelope): Promise<void> {
  if (env.action) {
    const card = await ingress.click(env);
    // The clicked card can only be replaced in this answer, within 5 s, once (wecom.md §4.4).
    const taskId = env.action.cardRef;
    if (card && taskId) return reply(ctx, k, nonce, { response_type: 'update_template_card', userids: [p.from.userid], template_card: { ...buttonCard(card), task_id: taskId } });
  } else if (p.msgtype === 'event' && p.event?.eventtype === 'enter_chat') {
    return reply(ctx, k, nonce, { msgtype: 'text', text: { content: help } });
  }
  ok(ctx);
}

function ok(ctx: Context): void {
  ctx.status = 200;
  ctx.body = '';
}

function replayed(ctx: Context, ingress: Ingress, msgid: string): void {
  ingress.log.warn({ msgid }, 'replayed aibot callback refused');
  ctx.status = 409;
  ctx.body = 'replayed';
}

/** Encrypted passive reply (wecom.md §2.6): the nonce of the callback, our own timestamp. */
function reply(ctx: Context, k: CallbackKeys, nonce: string, plain: unknown): void {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const encrypt = seal(k, JSON.stringify(plain));
  ctx.type = 'application/json';
  ctx.body = { encrypt, msgsignature: sign(k.token, timestamp, nonce, encrypt), timestamp: Number(timestamp), nonce };
}
