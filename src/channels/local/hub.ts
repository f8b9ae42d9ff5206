// Fans the local channel's pub/sub events out to the open console streams of this process.
import type { Redis } from 'ioredis';
import type { RedisTopology } from '../../config/redis-topology.js';
import { connect } from '../../store/redis.js';
import type { LocalEvent } from './chats.js';

type Listener = (e: LocalEvent) => void;

export class EventHub {
  private sub?: Redis;
  private listeners = new Set<Listener>();
  private closers = new Set<() => void>();

  constructor(
    private where: RedisTopology,
    private channel: string,
  ) {}

  /** Subscribes on first use: a service nobody watches keeps no extra connection. */
  async listen(fn: Listener, close: () => void): Promise<() => void> {
    if (!this.sub) {
      this.sub = connect(this.where, { maxRetriesPerRequest: null });
      this.sub.on('message', (_ch: string, raw: string) => {
        const e = JSON.parse(raw) as LocalEvent;
        for (const l of this.listeners) l(e);
      });
      await this.sub.subscribe(this.channel);
    }
    this.listeners.add(fn);
    this.closers.add(close);
    return () => {
      this.listeners.delete(fn);
      this.closers.delete(close);
    };
  }

  /** Ends every open stream (so shutdown is not held up by browsers) and drops the subscription. */
  async close(): Promise<void> {
    for (const c of [...this.closers]) c();
    this.listeners.clear();
    this.closers.clear();
    if (this.sub) await this.sub.quit().catch(() => undefined);
  }
}
