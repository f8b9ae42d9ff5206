// A received WeCom AI-bot text message as the hand-off stores it, for tests and benchmarks of the hand-off and the
// pump: its message id is `msgId`, the rest as a teacher's message in a group would have it.
import type { Envelope } from '../../src/channels/envelope.js';

export function textEnvelope(msgId: string, over: Partial<Envelope> = {}): Envelope {
  return {
    id: `wecom:aibot:${msgId}`,
    channel: 'wecom',
    surface: 'aibot',
    msgId,
    chat: { id: 'c1', type: 'group' },
    sender: { platformId: 'wang_li' },
    text: `报修 小一班 灯不亮 ${msgId}`,
    receivedAt: 1,
    ...over,
  };
}
