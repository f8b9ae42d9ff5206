// The robot's messages in Stream mode (DINGTALK_MODE=stream): the frame's `data` is the same JSON as the HTTP
// callback's body, so it takes the same road (receiver.ts takeRobotMessage). The ACK goes out only once the message
// is in Redis; when the hand-off fails there is no ACK and DingTalk delivers the message again about a minute later.
// Each instance holds its own connection (DingTalk pushes each message to one of them at random); the dedupe in
// Redis is shared, so a redelivery to another instance is handled once.
//
// With a card template (DINGTALK_CARD_TEMPLATE_ID) the card topic is subscribed too: a click is handled at once and
// ACKed with the card the clicker should see, `{"response": {cardData …}}` (protocols/dingtalk.md §8.3,
// card-callback.ts). Cards are created with callbackType STREAM, or their clicks would not come here.
import type { DingtalkSettings } from '../../config/load.js';
import { VerificationError } from '../../errors.js';
import type { Ingress } from '../ingress.js';
import { CARD_TOPIC, takeCardClick } from './card-callback.js';
import type { DingtalkCards } from './cards.js';
import { takeRobotMessage, type RobotMessage } from './receiver.js';
import { ROBOT_TOPIC } from './stream-frames.js';
import { type CallbackResult, DingtalkStream, type StreamOptions } from './stream.js';

export function robotStream(
  ingress: Ingress,
  s: Pick<DingtalkSettings, 'apiBase' | 'appKey' | 'appSecret'>,
  extra: Pick<StreamOptions, 'hooks' | 'timings'> = {},
  cards?: DingtalkCards,
): DingtalkStream {
  return new DingtalkStream({
    apiBase: s.apiBase,
    clientId: s.appKey,
    clientSecret: s.appSecret,
    topics: cards ? [ROBOT_TOPIC, CARD_TOPIC] : [ROBOT_TOPIC],
    onCallback: (topic, data) =>
      topic === CARD_TOPIC && cards ? take(data, ingress, 'card', cards) : take(data, ingress, 'robot'),
    log: ingress.log,
    ...extra,
  });
}

async function take(
  data: string,
  ingress: Ingress,
  kind: 'robot' | 'card',
  cards?: DingtalkCards,
): Promise<CallbackResult> {
  let m: unknown;
  try {
    m = JSON.parse(data);
  } catch {
    m = undefined;
  }
  const what = kind === 'robot' ? 'robot message' : 'card click';
  // A message that can never be read is answered 400, so it is not delivered again and again.
  if (!m || typeof m !== 'object') {
    ingress.log.warn({ bytes: data.length }, `dingtalk stream ${what} is not a JSON object; answered 400`);
    return { code: 400 };
  }
  try {
    if (kind === 'card') return { code: 200, response: await takeCardClick(m, ingress, cards!) };
    await takeRobotMessage(m as RobotMessage, ingress);
  } catch (e) {
    if (!(e instanceof VerificationError)) throw e; // not handled: no ACK, DingTalk delivers it again
    ingress.log.warn({ reason: e.message }, `dingtalk stream ${what} refused; answered 400`);
    return { code: 400 };
  }
  return { code: 200 };
}
