// A click on a button of Houqin's DingTalk card (https://open.dingtalk.com/document/orgapp/event-callback-card): over
// the Stream connection (topic /v1.0/card/instances/callback, stream-receiver.ts) or, in HTTP mode, POSTed to
// /dingtalk/card — the address Houqin registers at start, signed with its apiSecret (sign.ts). Both carry the same
// JSON: `{type: "actionCallback", outTrackId, userId, content: "{\"cardPrivateData\":{\"actionIds\":[…],
// \"params\":{…}}}"}`. The template's buttons send the button's key as the parameter `key` (card-params.ts).
//
// A click is handled at once, as on WeCom (ingress.click): the answer carries the card the clicker should see, and
// DingTalk waits 2 seconds for it. Everyone else's card follows through the outbox (cards.ts update). A click is
// one `outTrackId + userId + key`: DingTalk delivering it again — to this instance or another, within ten minutes —
// is handled once and answered with the card as it is now.
import { z } from 'zod';
import type { DingtalkCardSettings } from '../../config/load.js';
import { VerificationError } from '../../errors.js';
import type { CallbackAnswer, CallbackRequest, CallbackRoute } from '../../http/callbacks.js';
import type { Envelope } from '../envelope.js';
import type { Ingress } from '../ingress.js';
import type { ClickAnswer, DingtalkCards } from './cards.js';
import { refuseCallback } from './receiver.js';
import { verifyCardCallbackSign } from './sign.js';

export const CARD_PATH = '/dingtalk/card';

/**
 * A click carries no id or time of its own, so a tap is `outTrackId + userId + key`. Within this window the same
 * again is DingTalk delivering it again (Stream redelivers an unACKed push after about a minute); after it, a person
 * tapping the button again (有异常 a second time), which deserves an answer.
 */
const REPEAT_WITHIN_MS = 10 * 60_000;
export const CARD_TOPIC = '/v1.0/card/instances/callback';

const id = z.string().min(1).max(200);
const payloadSchema = z.looseObject({
  type: z.string().optional(),
  outTrackId: id,
  userId: id,
  spaceType: z.string().optional(),
  spaceId: z.string().optional(),
  // A JSON string in the documented payload; an object is taken too, and `value` where some payloads put it.
  content: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  value: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
});

const actionSchema = z.looseObject({
  cardPrivateData: z
    .looseObject({
      actionIds: z.array(z.string()).optional(),
      params: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});

/** The button a click is for: the `key` parameter, or the slot's key as stored when only the slot (btnN) came. */
function keyOf(params: Record<string, unknown>, actionIds: string[], stored: string[] | undefined): string | undefined {
  if (typeof params.key === 'string' && params.key) return params.key.slice(0, 200);
  const slot = /^btn(\d)$/.exec(actionIds[0] ?? '');
  return slot ? stored?.[Number(slot[1]) - 1] : undefined;
}

/**
 * One click, from either transport. Resolves with the answer for DingTalk; VerificationError for a payload that can
 * never be taken (answered 400, not delivered again); any other rejection means it was not handled and may come again.
 */
export async function takeCardClick(payload: unknown, ingress: Ingress, cards: DingtalkCards): Promise<ClickAnswer> {
  const p = payloadSchema.safeParse(payload);
  if (!p.success) throw new VerificationError(`card callback of an unknown shape: ${p.error.issues[0]?.message}`, 400);
  const m = p.data;
  if (m.type && m.type !== 'actionCallback') {
    ingress.log.info({ type: m.type }, 'dingtalk card callback of a kind not handled; answered with no change');
    return cards.answer(m.outTrackId, m.userId, undefined);
  }
  let content: unknown = m.content ?? m.value;
  if (typeof content === 'string') {
    try {
      content = JSON.parse(content);
    } catch {
      throw new VerificationError('card callback content is not JSON', 400);
    }
  }
  const action = actionSchema.safeParse(content ?? {});
  if (!action.success) throw new VerificationError('card callback content of an unknown shape', 400);
  const data = action.data.cardPrivateData ?? {};
  const state = await cards.state(m.outTrackId);
  const key = keyOf(data.params ?? {}, data.actionIds ?? [], state?.keys);
  if (!key) throw new VerificationError('card callback names no button', 400);
  // Where the card is decides where replies go: the group it was posted in, or the clicker's 1:1 chat.
  const group = state ? state.space === 'IM_GROUP' : m.spaceType === 'IM_GROUP';
  const groupId = state?.spaceId ?? m.spaceId;
  const msgId = `${m.outTrackId}:${m.userId}:${key}`;
  const env: Envelope = {
    id: `dingtalk:card:${msgId}`,
    channel: 'dingtalk',
    surface: 'card',
    msgId,
    chat: group && groupId ? { id: groupId, type: 'group' } : { id: `robot:${m.userId}`, type: 'single' },
    sender: { platformId: m.userId },
    action: { key, ...(state ? { cardRef: state.ref } : {}) },
    receivedAt: ingress.now(),
  };
  const card = await ingress.click(env, { repeatWithinMs: REPEAT_WITHIN_MS });
  return cards.answer(m.outTrackId, m.userId, card);
}

/** HTTP mode: the route DingTalk posts clicks to (registered at start, cards.ts register). */
export function cardRoutes(ingress: Ingress, cards: DingtalkCards, s: DingtalkCardSettings): CallbackRoute[] {
  const secret = s.apiSecret;
  if (!secret) return [];
  return [
    {
      method: 'POST',
      path: CARD_PATH,
      handle: async (req) => {
        try {
          return await receive(req, ingress, cards, secret);
        } catch (e) {
          return refuseCallback(req, ingress, e, 'card');
        }
      },
    },
  ];
}

async function receive(
  req: CallbackRequest,
  ingress: Ingress,
  cards: DingtalkCards,
  secret: string,
): Promise<CallbackAnswer> {
  // Headers first: a forged or stale click is refused before its body is read.
  verifyCardCallbackSign(
    req.header?.('x-ddpaas-signature-timestamp'),
    req.header?.('x-ddpaas-signature'),
    secret,
    ingress.now(),
    ingress.maxSkewMs,
  );
  let body: unknown;
  try {
    body = JSON.parse(await req.body(ingress.bodyLimitBytes));
  } catch (e) {
    if ((e as { type?: string }).type === 'entity.too.large') throw e;
    throw new VerificationError('body is not JSON', 400);
  }
  // The answer is the same object a Stream ACK carries as `response` (event-callback-card, 事件回调响应).
  return { status: 200, type: 'json', body: JSON.stringify(await takeCardClick(body, ingress, cards)) };
}
