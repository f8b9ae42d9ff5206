// WeCom self-built app (自建应用) callbacks: encrypted XML, receive id = corp id (protocols/wecom.md §2, §4.3).
// 1:1 text, voice and image messages are handed off (an image as its MediaId, fetched by the worker);
// template_card_event clicks are handled at once and the clicked card is updated through the API with the click's
// one-use response_code.
import { XMLParser } from 'fast-xml-parser';
import { VerificationError } from '../../errors.js';
import type { Envelope } from '../envelope.js';
import type { Ingress } from '../ingress.js';
import { open, type CallbackKeys } from './crypto.js';
import type { CallbackAnswer, CallbackRequest, CallbackRoute } from '../../http/callbacks.js';
import { ok, replayed, surfaceRoutes, verify, type SignedQuery } from './guard.js';

// parseTagValue:false keeps 64-bit MsgIds as strings (wecom.md §7.8); entities off: nothing to expand.
const xml = new XMLParser({ parseTagValue: false, processEntities: false, ignoreDeclaration: true, trimValues: true });

function readXml(text: string): Record<string, unknown> {
  try {
    const doc = xml.parse(text) as { xml?: Record<string, unknown> };
    return doc && typeof doc.xml === 'object' && doc.xml ? doc.xml : {};
  } catch {
    return {};
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

export function appRoutes(ingress: Ingress, keys: { token: string; aesKey: string; corpId: string }): CallbackRoute[] {
  const k: CallbackKeys = { token: keys.token, aesKey: keys.aesKey, receiveId: keys.corpId };
  return surfaceRoutes('app', ingress, k, (req, q) => receive(req, q, ingress, k));
}

async function receive(
  req: CallbackRequest,
  q: SignedQuery,
  ingress: Ingress,
  k: CallbackKeys,
): Promise<CallbackAnswer> {
  const outer = readXml(await req.body(ingress.bodyLimitBytes));
  const encrypted = str(outer.Encrypt);
  if (!encrypted) throw new VerificationError('body has no <Encrypt> element');
  verify(ingress, k, q, encrypted);
  const m = readXml(open(k, encrypted));
  const from = str(m.FromUserName);
  const type = str(m.MsgType);
  if (!from || !type) throw new VerificationError('decrypted message lacks FromUserName or MsgType', 400);
  const replay = { key: `app:${q.signature}`, ttlMs: ingress.maxSkewMs * 2 };
  const env = toEnvelope(m, from, type, ingress.now());
  let fresh: boolean;
  if (env && !env.action) {
    fresh = await ingress.accept(env, replay); // the replay check rides with the durable hand-off
  } else {
    fresh = await ingress.firstSight(replay.key, replay.ttlMs);
    if (fresh && env) {
      try {
        await ingress.click(env);
      } catch (e) {
        await ingress.forget(replay.key);
        throw e;
      }
    }
  }
  // 200 with an empty answer: no passive reply, no retry (wecom.md §2.6)
  return fresh ? ok : replayed(ingress, 'app', { from, type });
}

function toEnvelope(m: Record<string, unknown>, from: string, type: string, now: number): Envelope | undefined {
  const chat = { id: `app:${from}`, type: 'single' as const };
  // A message from a member: text, a picture (fetched later by the worker with media/get, valid 3 days, see
  // photo-intake.ts), or speech WeCom already transcribed.
  const message = (content: Pick<Envelope, 'text' | 'images' | 'voice'>, msgId = str(m.MsgId)): Envelope => ({
    id: `wecom:app:${msgId}`,
    channel: 'wecom',
    surface: 'app',
    msgId,
    chat,
    sender: { platformId: from },
    ...content,
    receivedAt: now,
  });
  const fallbackId = `${from}-${str(m.CreateTime)}`;
  if (type === 'text') return message({ text: str(m.Content) }, str(m.MsgId) || fallbackId);
  if (type === 'image' && str(m.MediaId))
    return message({ images: [{ mediaId: str(m.MediaId) }] }, str(m.MsgId) || fallbackId);
  if (type === 'voice' && str(m.Recognition)) return message({ text: str(m.Recognition), voice: true });
  if (type === 'event' && str(m.Event) === 'template_card_event') {
    // Events carry no MsgId; user + time alone merges distinct clicks (WxJava #1745), so add the card and key.
    const msgId = [from, str(m.CreateTime), str(m.TaskId), str(m.EventKey)].join('-');
    return {
      id: `wecom:app:${msgId}`,
      channel: 'wecom',
      surface: 'app',
      msgId,
      chat,
      sender: { platformId: from },
      action: { key: str(m.EventKey), cardRef: str(m.TaskId), responseCode: str(m.ResponseCode) || undefined },
      receivedAt: now,
    };
  }
  return undefined; // other events (enter_agent, …) need nothing from us
}
