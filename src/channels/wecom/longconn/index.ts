// WeCom AI bot, long-connection mode (WECOM_AIBOT_MODE=longconn), put together: the sending side every instance has
// (sender.ts, for the outbox), and — in processes that take messages in — the keeper that holds the one connection
// when this instance has the lease, with the receiver and the relay drain on it.
//
// Written on `ws` rather than @wecom/aibot-node-sdk (docs/setup-wecom.md says why): its reconnect gives up after ten
// tries without jitter, it never redials after a disconnected_event, and its README reads the click's event_key
// from the wrong place.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { WecomSettings } from '../../../config/load.js';
import type { Logger } from '../../../log.js';
import type { MediaStore } from '../../../store/media.js';
import { RateLimiter } from '../../../store/rate.js';
import type { Ingress } from '../../ingress.js';
import { SpokenChats } from './chats.js';
import { Keeper, type KeeperStatus, type KeeperTimings } from './keeper.js';
import { Outbound } from './outbound.js';
import { type LongconnReceiver, longconnReceiver } from './receiver.js';
import { Relay } from './relay.js';
import { LongconnSender } from './sender.js';
import { LongconnUploads } from './upload.js';

export class WecomLongconn {
  readonly sender: LongconnSender;
  private readonly keyPrefix: string;
  private readonly chats: SpokenChats;
  private readonly outbound: Outbound;
  private readonly relay: Relay;
  private keeper?: Keeper;
  private blocking?: Redis;
  private receiver?: LongconnReceiver;

  constructor(
    private s: NonNullable<WecomSettings['longconn']>,
    private redis: Redis,
    prefix: string,
    private log: Logger,
    media?: MediaStore,
    private timings?: Partial<KeeperTimings>,
  ) {
    this.keyPrefix = `${prefix}:wecom:lc`;
    this.chats = new SpokenChats(redis, `${this.keyPrefix}:chats`);
    this.outbound = new Outbound(
      redis,
      this.keyPrefix,
      new LongconnUploads(redis, `${this.keyPrefix}:media`),
      log,
      media,
    );
    this.relay = new Relay(redis, this.keyPrefix, log);
    this.sender = new LongconnSender({
      limiter: new RateLimiter(redis),
      rateKey: (bucket) => `${prefix}:rate:${bucket}`,
      chats: this.chats,
      outbound: this.outbound,
      relay: this.relay,
      current: () => this.keeper?.current(),
      log,
    });
  }

  /** Takes part in holding the connection (receiver and all-in-one processes); waits for the first attempt. */
  async start(ingress: Ingress, hooks?: { connected?(on: boolean): void }): Promise<void> {
    if (this.keeper) return;
    const blocking = (this.blocking = this.redis.duplicate());
    this.keeper = new Keeper({
      redis: this.redis,
      leaseKey: `${this.keyPrefix}:lease`,
      upKey: `${this.keyPrefix}:up`,
      owner: `${process.pid}-${randomBytes(6).toString('hex')}`,
      url: this.s.wsUrl,
      botId: this.s.botId,
      secret: this.s.secret,
      log: this.log,
      timings: this.timings,
      onCallback: (this.receiver = longconnReceiver(ingress, this.chats)),
      onUp: (conn) => {
        hooks?.connected?.(true);
        this.relay.serve(blocking, (req) => this.outbound.perform(conn, req));
      },
      onDown: () => {
        hooks?.connected?.(false);
        void this.relay.stopServing();
      },
    });
    await this.keeper.start();
  }

  async stop(): Promise<void> {
    await this.keeper?.stop();
    // The socket is closed: nothing more arrives. What did arrive is handed off before Redis is closed.
    await this.receiver?.settled();
    await this.relay.stopServing();
    this.blocking?.disconnect();
  }

  status(): KeeperStatus | undefined {
    return this.keeper?.status();
  }
}
