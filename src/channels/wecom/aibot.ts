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
      const replayKey = `aibot:${q.signature}`;
      if (!(await ingress.firstSight(replayKey, ingress.maxSkewMs * 2))) {
        ingress.log.warn({ msgid: parsed.data.msgid }, 'replayed aibot callback refused');
        ctx.status = 409;
        ctx.body = 'replayed';
        return;
      }
      try {
        await handle(ctx, ingress, k, q.nonce, parsed.data);
      } catch (e) {
        await ingress.forget(replayKey);
        throw e;
      }
    } catch (e) {
      refuse(ctx, ingress, 'aibot', e);
    }
  });
}

async function handle(ctx: Context, ingress: Ingress, k: CallbackKeys, nonce: string, p: Payload): Promise<void> {
  const base = {
    id: `wecom:aibot:${p.msgid}`,
    channel: 'wecom' as const,
    surface: 'aibot',
    msgId: p.msgid,
    chat: { id: p.chatid ?? `single:${p.from.userid}`, type: p.chattype ?? 'single' },
    sender: { platformId: p.from.userid },
    responseUrl: p.response_url,
    receivedAt: ingress.now(),
  };
  if (p.msgtype === 'event') {
    const ev = p.event;
    if (ev?.eventtype === 'template_card_event') {
      const click = ev.template_card_event ?? {};
      const env: Envelope = { ...base, action: { key: click.event_key ?? click.eventkey ?? '', cardRef: click.task_id } };
      const card = await ingress.click(env);
      // The clicked card can only be replaced in this answer, within 5 s, once (wecom.md §4.4).
      if (card && click.task_id) return reply(ctx, k, nonce, { response_type: 'update_template_card', userids: [p.from.userid], template_card: { ...buttonCard(card), task_id: click.task_id } });
    } else if (ev?.eventtype === 'enter_chat') {
      return reply(ctx, k, nonce, { msgtype: 'text', text: { content: help } });
    }
    ctx.status = 200;
    ctx.body = '';
    return;
  }
  if (p.msgtype === 'stream') {
    ctx.status = 200; // we never start streams; answer refresh polls with nothing
    ctx.body = '';
    return;
  }
  await ingress.accept({ ...base, text: textOf(p) });
  ctx.status = 200;
  ctx.body = '';
}

/** Encrypted passive reply (wecom.md §2.6): the nonce of the callback, our own timestamp. */
function reply(ctx: Context, k: CallbackKeys, nonce: string, plain: unknown): void {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const encrypt = seal(k, JSON.stringify(plain));
  ctx.type = 'application/json';
  ctx.body = { encrypt, msgsignature: sign(k.token, timestamp, nonce, encrypt), timestamp: Number(timestamp), nonce };
}
