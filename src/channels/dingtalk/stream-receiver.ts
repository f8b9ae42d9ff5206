// The robot's messages in Stream mode (DINGTALK_MODE=stream): the frame's `data` is the same JSON as the HTTP
// callback's body, so it takes the same road (receiver.ts takeRobotMessage). The ACK goes out only once the message
// is in Redis; when the hand-off fails there is no ACK and DingTalk delivers the message again about a minute later.
// Each instance holds its own connection (DingTalk pushes each message to one of them at random); the dedupe in
// Redis is shared, so a redelivery to another instance is handled once.
import type { DingtalkSettings } from '../../config/load.js';
import { VerificationError } from '../../errors.js';
import type { Ingress } from '../ingress.js';
import { takeRobotMessage, type RobotMessage } from './receiver.js';
import { ROBOT_TOPIC } from './stream-frames.js';
import { type CallbackResult, DingtalkStream, type StreamOptions } from './stream.js';

export function robotStream(
  ingress: Ingress,
  s: Pick<DingtalkSettings, 'apiBase' | 'appKey' | 'appSecret'>,
  extra: Pick<StreamOptions, 'hooks' | 'timings'> = {},
): DingtalkStream {
  return new DingtalkStream({
    apiBase: s.apiBase,
    clientId: s.appKey,
    clientSecret: s.appSecret,
    // The card topic (/v1.0/card/instances/callback) joins once cards with buttons are built.
    topics: [ROBOT_TOPIC],
    onCallback: (_topic, data) => take(data, ingress),
    log: ingress.log,
    ...extra,
  });
}

async function take(data: string, ingress: Ingress): Promise<CallbackResult> {
  let m: unknown;
  try {
    m = JSON.parse(data);
  } catch {
    m = undefined;
  }
  // A message that can never be read is answered 400, so it is not delivered again and again.
  if (!m || typeof m !== 'object') {
    ingress.log.warn({ bytes: data.length }, 'dingtalk stream robot message is not a JSON object; answered 400');
    return { code: 400 };
  }
  try {
    await takeRobotMessage(m as RobotMessage, ingress);
  } catch (e) {
    if (!(e instanceof VerificationError)) throw e; // the hand-off failed: no ACK
    ingress.log.warn({ reason: e.message }, 'dingtalk stream robot message refused; answered 400');
    return { code: 400 };
  }
  return { code: 200 };
}
