// The frames of DingTalk's Stream protocol (https://opensource.dingtalk.com/developerpedia/docs/learn/stream/protocol,
// protocols/dingtalk.md §8): what the gateway sends down the WebSocket, and the two answers we send back — the
// ACK of a CALLBACK and the echo of a SYSTEM ping. Shapes only; the connection lives in stream.ts.
import { z } from 'zod';

/** The enterprise robot's messages (group @-messages and 1:1 messages). */
export const ROBOT_TOPIC = '/v1.0/im/bot/messages/get';

/** A frame from the gateway. `data` is always a JSON *string*; unknown header fields are kept and ignored. */
export const frameSchema = z.object({
  specVersion: z.string().optional(),
  type: z.string(),
  headers: z.looseObject({
    messageId: z.string().min(1),
    topic: z.string().optional(),
    contentType: z.string().optional(),
    time: z.string().optional(),
  }),
  data: z.string().optional(),
});

export type Frame = z.infer<typeof frameSchema>;

/** Status codes an ACK may carry (§8.3): 200 taken, 400 a bad message, 404 a topic we do not serve, 500 our fault. */
export type AckCode = 200 | 400 | 404 | 500;

/** The ACK of a CALLBACK frame; `response` is what the topic wants back (nothing for a robot message). */
export function ackFrame(messageId: string, code: AckCode, response: unknown = null): string {
  return JSON.stringify({
    code,
    headers: { contentType: 'application/json', messageId },
    message: code === 200 ? 'OK' : code === 404 ? 'topic not served' : code === 400 ? 'bad message' : 'error',
    data: JSON.stringify({ response }),
  });
}

/** The answer to an EVENT frame (we subscribe to none; one that comes anyway is taken so it is not redelivered). */
export function eventAckFrame(messageId: string): string {
  return JSON.stringify({
    code: 200,
    headers: { contentType: 'application/json', messageId },
    message: 'OK',
    data: JSON.stringify({ status: 'SUCCESS', message: 'not handled' }),
  });
}

/** The echo of a SYSTEM ping: the same messageId and the same `data` string, untouched. */
export function pingEcho(frame: Frame): string {
  return JSON.stringify({
    code: 200,
    headers: { contentType: 'application/json', messageId: frame.headers.messageId },
    message: 'OK',
    data: frame.data ?? '',
  });
}

/** `POST /v1.0/gateway/connections/open` answers this; the ticket is good for one connection within 90 s. */
export const openAnswerSchema = z.object({
  endpoint: z.string().regex(/^wss?:\/\//, 'endpoint must be a ws:// or wss:// URL'),
  ticket: z.string().min(1),
});
