// The outbox's side of long-connection mode: keep WeCom's limits by delaying (30 messages a minute and 1 000 an hour
// per conversation, replies and proactive messages together, wecom.md §3.7), wait for a chat that has not written to
// the bot yet, then carry the message out — here when this instance holds the connection, else through the holder
// (relay.ts). Nothing is dropped: every "not now" is a RetryLater, which delays the outbox job without using an
// attempt.
import { RetryLater, type DeliveryContext } from '../../channel.js';
import type { Message } from '../../../domain/messages.js';
import { PlatformError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import type { RateLimiter } from '../../../store/rate.js';
import type { SpokenChats } from './chats.js';
import type { LongConn } from './connection.js';
import { NOT_UP, type Outbound, type Route, type SendResult } from './outbound.js';
import type { Relay } from './relay.js';

export const PER_MINUTE = 30;
export const PER_HOUR = 1_000;
/** A second of slack on each window for clock skew between us and WeCom. */
const MINUTE_MS = 61_000;
const HOUR_MS = 3_601_000;
/** How often a message for a chat that never wrote to the bot looks again. */
export const SILENT_CHAT_WAIT_MS = 5 * 60_000;
/** When no holder answered: look again this soon (a takeover takes a few seconds). */
const NO_HOLDER_WAIT_MS = 3_000;

export interface LongconnSenderDeps {
  limiter: RateLimiter;
  /** Rate-limit key for a conversation. */
  rateKey(bucket: string): string;
  chats: SpokenChats;
  outbound: Outbound;
  relay: Relay;
  /** The connection when this instance holds it and it is up. */
  current(): LongConn | undefined;
  log: Logger;
}

export class LongconnSender {
  private warned = new Set<string>();

  constructor(readonly d: LongconnSenderDeps) {}

  async deliver(route: Route, message: Message, ctx: DeliveryContext): Promise<void> {
    const replying = !!route.respond && Date.now() < route.respond.until;
    if (!replying && !(await this.d.chats.has(route.chatid))) {
      if (!this.warned.has(route.chatid)) {
        this.warned.add(route.chatid);
        this.d.log.warn(
          { chat: route.chatid },
          'WeCom lets the AI bot post only into chats that wrote to it: this message waits until someone there @-mentions the bot (or the person sends it a message)',
        );
      }
      throw new RetryLater(SILENT_CHAT_WAIT_MS, `chat ${route.chatid} has not written to the bot yet`);
    }
    // After the chat check: a message that waits for its chat does not hold a slot of the window meanwhile.
    const conv = `wecom:lc:${route.chatid}`;
    for (const [bucket, limit, windowMs] of [
      [`${conv}:m`, PER_MINUTE, MINUTE_MS],
      [`${conv}:h`, PER_HOUR, HOUR_MS],
    ] as const) {
      const wait = await this.d.limiter.take(this.d.rateKey(bucket), limit, windowMs, ctx.jobId);
      if (wait > 0) throw new RetryLater(wait, `conversation ${route.chatid} at ${limit} messages per window`);
    }
    const conn = this.d.current();
    const result: SendResult | undefined = conn
      ? await this.d.outbound.perform(conn, {
          id: ctx.jobId,
          jobId: ctx.jobId,
          deadline: Date.now() + 10_000,
          route,
          message,
        })
      : await this.d.relay.hand({ jobId: ctx.jobId, route, message });
    if (!result) throw new RetryLater(NO_HOLDER_WAIT_MS, 'the WeCom long connection is not up; waiting for it');
    if (result.ok) return;
    if (result.wait !== undefined) throw new RetryLater(result.wait, `${result.errcode} ${result.errmsg}`);
    if (result.errcode === NOT_UP) throw new RetryLater(NO_HOLDER_WAIT_MS, result.errmsg);
    throw new PlatformError(`aibot send refused: ${result.errcode} ${result.errmsg}`, result.errcode, false);
  }
}
