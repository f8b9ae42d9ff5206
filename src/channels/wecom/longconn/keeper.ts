// Who holds the bot's one connection, and keeping it up. WeCom keeps one live long connection per bot and a new
// subscribe kicks the old one (wecom.md §3.7), so with several instances exactly one may dial: the one holding the
// lease in Redis (src/store/lease.ts). The holder renews it every renewEveryMs; the others try to take it every
// watchEveryMs, so when the holder dies (SIGKILL) another one has it within about leaseTtlMs and dials.
//
// One loop per process: at most one connection is being dialled or held at a time, and every redial waits for the
// backoff (full jitter, capped; src/util/backoff.ts), after a failed subscribe as after a lost connection, so a
// refused secret or a flapping network never turns into a stream of subscribes. A `disconnected_event` (someone
// else subscribed with this bot: another deployment, a developer's laptop) waits at least kickedWaitMs, so two
// deployments sharing one bot do not kick each other every second.
import type { Redis } from 'ioredis';
import type { Logger } from '../../../log.js';
import { Lease } from '../../../store/lease.js';
import { Backoff } from '../../../util/backoff.js';
import type { Incoming } from './frames.js';
import { type ConnTimings, LongConn } from './connection.js';

export interface KeeperTimings {
  leaseTtlMs: number;
  renewEveryMs: number;
  watchEveryMs: number;
  /** Redial waits: random between floorMs and min(capMs, baseMs·2^failures). */
  backoff: { baseMs: number; capMs: number; floorMs: number };
  /** After a `disconnected_event`, the next dial waits at least this long. */
  kickedWaitMs: number;
  /** A connection that stayed up this long was healthy: the backoff starts again from its base. */
  healthyAfterMs: number;
  conn?: Partial<ConnTimings>;
}

export const defaultKeeperTimings: KeeperTimings = {
  leaseTtlMs: 5_000,
  renewEveryMs: 1_500,
  watchEveryMs: 1_000,
  backoff: { baseMs: 1_000, capMs: 60_000, floorMs: 500 },
  kickedWaitMs: 30_000,
  healthyAfterMs: 60_000,
};

export interface KeeperOptions {
  redis: Redis;
  leaseKey: string;
  /** Set (with the lease's ttl, renewed with it) while this holder's connection is up: senders elsewhere read it. */
  upKey: string;
  /** Unique per process start. */
  owner: string;
  url: string;
  botId: string;
  secret: string;
  log: Logger;
  timings?: Partial<KeeperTimings>;
  onCallback(f: Incoming, conn: LongConn): void;
  /** The connection is up (subscribed) / went down. */
  onUp?(conn: LongConn): void;
  onDown?(): void;
  random?: () => number;
}

export type KeeperState = 'idle' | 'watching' | 'connecting' | 'connected' | 'stopped';

export interface KeeperStatus {
  state: KeeperState;
  /** This process holds the lease (and so the right to dial). */
  holder: boolean;
  lastError?: string;
  reconnects: number;
}

export class Keeper {
  private readonly t: KeeperTimings;
  private readonly lease: Lease;
  private readonly upMark: Lease;
  private readonly backoff: Backoff;
  private state: KeeperState = 'idle';
  private holding = false;
  private conn?: LongConn;
  private renewer?: NodeJS.Timeout;
  /** Until when the lease is ours for sure: the last successful renewal plus its ttl. */
  private validUntil = 0;
  private wakeUp?: () => void;
  private loop?: Promise<void>;
  private lastError?: string;
  private reconnects = 0;
  private settleFirst?: () => void;
  private stopping = new AbortController();

  constructor(private o: KeeperOptions) {
    this.t = { ...defaultKeeperTimings, ...o.timings };
    this.lease = new Lease(o.redis, o.leaseKey, o.owner, this.t.leaseTtlMs);
    this.upMark = new Lease(o.redis, o.upKey, o.owner, this.t.leaseTtlMs);
    this.backoff = new Backoff({ ...this.t.backoff, random: o.random });
  }

  status(): KeeperStatus {
    return {
      state: this.state,
      holder: this.holding,
      ...(this.state !== 'connected' && this.lastError ? { lastError: this.lastError } : {}),
      reconnects: this.reconnects,
    };
  }

  /** The connection, when this process holds it and it is up. */
  current(): LongConn | undefined {
    return this.conn?.up ? this.conn : undefined;
  }

  /** Starts the loop; resolves once it knows where it stands (connected, failed once, or another holds the lease). */
  async start(waitMs = 5_000): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'watching';
    const first = new Promise<void>((r) => (this.settleFirst = r));
    this.loop = this.run().catch((e: Error) => this.o.log.error({ err: e.message }, 'wecom long connection loop died'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([first, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  /** Closes the connection and gives the lease up, so another instance takes over at once. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearInterval(this.renewer);
    this.stopping.abort();
    this.wake();
    await this.conn?.close();
    await this.loop;
    if (this.holding) {
      this.holding = false;
      await this.lease.release().catch(() => undefined);
    }
    this.o.log.info('wecom long connection stopped');
  }

  /** Moves the loop's state on; once stopped it stays stopped. */
  private go(state: KeeperState): void {
    if (this.state !== 'stopped') this.state = state;
  }

  private get stopped(): boolean {
    return this.state === 'stopped';
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.holding) {
        if (!(await this.takeLease())) {
          if (this.stopped) return;
          this.go('watching');
          this.settle();
          // Jitter so that the watchers do not all ask Redis in the same millisecond.
          await this.sleep(this.t.watchEveryMs * (0.75 + 0.5 * (this.o.random ?? Math.random)()));
          continue;
        }
      }
      this.go('connecting');
      let conn: LongConn;
      let ended!: Promise<{ why: string; kicked: boolean }>;
      try {
        let endedNow!: (x: { why: string; kicked: boolean }) => void;
        ended = new Promise((r) => (endedNow = r));
        conn = await LongConn.open({
          url: this.o.url,
          botId: this.o.botId,
          secret: this.o.secret,
          log: this.o.log,
          timings: this.t.conn,
          onCallback: (f, c) => this.o.onCallback(f, c),
          onEnd: (why, kicked) => endedNow({ why, kicked }),
          signal: this.stopping.signal,
        });
      } catch (e) {
        this.lastError = (e as Error).message;
        if (this.stopped) return;
        const wait = this.backoff.next();
        this.o.log.warn({ reason: this.lastError, retryInMs: wait }, 'wecom long connection could not subscribe');
        this.settle();
        await this.sleep(wait);
        continue;
      }
      if (this.stopped || !this.holding) {
        await conn.close();
        continue;
      }
      const openedAt = Date.now();
      this.conn = conn;
      this.go('connected');
      this.lastError = undefined;
      this.o.log.info({ url: this.o.url }, 'wecom long connection subscribed');
      await this.upMark.acquire().catch(() => undefined);
      this.o.onUp?.(conn);
      this.settle();
      const { why, kicked } = await ended;
      this.conn = undefined;
      this.go('connecting');
      await this.upMark.release().catch(() => undefined);
      this.o.onDown?.();
      if (Date.now() - openedAt >= this.t.healthyAfterMs) this.backoff.reset();
      if (this.stopped) return;
      this.lastError = why;
      this.reconnects++;
      if (!this.holding) {
        this.o.log.warn({ reason: why }, 'wecom long connection closed: this instance no longer holds the lease');
        continue;
      }
      const wait = kicked ? Math.max(this.t.kickedWaitMs, this.backoff.next()) : this.backoff.next();
      this.o.log.warn({ reason: why, retryInMs: wait }, 'wecom long connection lost; redialling');
      await this.sleep(wait);
    }
  }

  private async takeLease(): Promise<boolean> {
    try {
      if (!(await this.lease.acquire())) return false;
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message }, 'wecom long connection: cannot reach Redis for the lease');
      return false;
    }
    if (this.stopped) {
      await this.lease.release().catch(() => undefined);
      return false;
    }
    this.holding = true;
    this.validUntil = Date.now() + this.t.leaseTtlMs;
    this.o.log.info({ owner: this.o.owner }, 'wecom long connection: this instance holds the lease');
    this.renewer = setInterval(() => void this.renew(), this.t.renewEveryMs);
    return true;
  }

  private async renew(): Promise<void> {
    if (!this.holding) return;
    const asked = Date.now();
    let ok: boolean;
    try {
      ok = await this.lease.renew();
    } catch (e) {
      // Redis unreachable: the lease may still be ours until validUntil; after that someone else may have it.
      if (Date.now() < this.validUntil) return;
      this.o.log.warn({ err: (e as Error).message }, 'wecom long connection: could not renew the lease in time');
      ok = false;
    }
    if (ok) {
      this.validUntil = asked + this.t.leaseTtlMs;
      if (this.conn?.up) await this.upMark.acquire().catch(() => undefined);
      return;
    }
    this.lostLease();
  }

  /** Someone else holds the lease now (we were paused or cut off from Redis longer than its ttl): step down. */
  private lostLease(): void {
    if (!this.holding) return;
    this.holding = false;
    clearInterval(this.renewer);
    this.o.log.warn('wecom long connection: the lease was lost; closing this connection');
    void this.conn?.close();
    this.wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private settle(): void {
    this.settleFirst?.();
    this.settleFirst = undefined;
  }
}
