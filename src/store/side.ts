// Small pieces of state around tasks: half-finished reports, 催办 throttling, meal feedback.
import type { Redis } from 'ioredis';
import type { Intent } from '../commands/intent.js';
import type { MealFeedback } from '../domain/records.js';
import type { Keys } from './keys.js';
import { MealStore } from './meals.js';
import { StrangerStore } from './strangers.js';

export type { MealFeedback };

export interface PendingReport {
  kind: string; // repair, cleaning or a kind the config adds (never meal)
  trade?: string;
  text: string;
  urgent: boolean;
  envelopeId: string;
  at: number;
}

/** A report the bot was not sure of, waiting for the person's 是 / 不是. */
export interface PendingAsk {
  intent: Intent;
  chat: string;
  envelopeId: string;
  at: number;
}

/** A message the bot could not place, kept for the manager (console 未识别, `houqin unread`). */
export interface Unread {
  id: number;
  at: number;
  person: string;
  channel: string;
  chat: string;
  text: string;
  /** unread: nothing in it was understood; declined: the person said 不是 to the bot's guess. */
  reason: 'unread' | 'declined';
  /** What the bot guessed, for declined ones. */
  guess?: string;
}

/** The list keeps this many; the oldest go first. */
const UNREAD_KEEP = 500;

export class SideStore {
  private strangers: StrangerStore;

  constructor(
    private redis: Redis,
    private k: Keys,
  ) {
    this.strangers = new StrangerStore(redis, k.prefix);
  }

  /**
   * Keeps a message from a sender not on the roster for the manager (store/strangers.ts); true when they should get
   * the polite reply (their first message within the hour).
   */
  noteStranger(m: { channel: string; platformId: string; chat: string; text: string; at: number }): Promise<boolean> {
    return this.strangers.record(m);
  }

  async setPending(chat: string, person: string, p: PendingReport, ttlMs: number): Promise<void> {
    await this.redis.set(this.k.pending(chat, person), JSON.stringify(p), 'PX', ttlMs);
  }

  /** Takes the pending report (at most once: a second message cannot complete it again). */
  async takePending(chat: string, person: string): Promise<PendingReport | null> {
    const v = await this.redis.getdel(this.k.pending(chat, person));
    return v ? (JSON.parse(v) as PendingReport) : null;
  }

  async setAsk(person: string, a: PendingAsk, ttlMs: number): Promise<void> {
    await this.redis.set(this.k.ask(person), JSON.stringify(a), 'PX', ttlMs);
  }

  /** Takes the question (once: a double tap or a repeated delivery finds nothing). */
  async takeAsk(person: string): Promise<PendingAsk | null> {
    const v = await this.redis.getdel(this.k.ask(person));
    return v ? (JSON.parse(v) as PendingAsk) : null;
  }

  /** The report a person's message was just folded into, and the report as they gave it, for 不是同一个. */
  async setFolded(
    person: string,
    f: { task: number; intent: Intent; chat: string; envelopeId: string },
    ttlMs: number,
  ) {
    await this.redis.set(this.k.folded(person), JSON.stringify(f), 'PX', ttlMs);
  }

  async takeFolded(person: string): Promise<{ task: number; intent: Intent; chat: string; envelopeId: string } | null> {
    const v = await this.redis.getdel(this.k.folded(person));
    return v ? JSON.parse(v) : null;
  }

  async hasFolded(person: string): Promise<boolean> {
    return (await this.redis.exists(this.k.folded(person))) === 1;
  }

  async hasAsk(person: string): Promise<boolean> {
    return (await this.redis.exists(this.k.ask(person))) === 1;
  }

  async addUnread(u: Omit<Unread, 'id'>): Promise<number> {
    const id = await this.redis.incr(this.k.unreadSeq);
    const old = await this.redis
      .multi()
      .hset(this.k.unread, String(id), JSON.stringify({ ...u, id }))
      .zadd(this.k.unreadIds, u.at, String(id))
      .zrange(this.k.unreadIds, '0', String(-UNREAD_KEEP - 1))
      .exec();
    const drop = (old?.[2]?.[1] as string[] | undefined) ?? [];
    if (drop.length)
      await this.redis
        .multi()
        .hdel(this.k.unread, ...drop)
        .zrem(this.k.unreadIds, ...drop)
        .exec();
    return id;
  }

  /** Newest first. */
  async listUnread(limit = 100): Promise<Unread[]> {
    const ids = await this.redis.zrevrange(this.k.unreadIds, 0, limit - 1);
    if (!ids.length) return [];
    const vals = await this.redis.hmget(this.k.unread, ...ids);
    return vals.filter((v): v is string => !!v).map((v) => JSON.parse(v) as Unread);
  }

  /** Removes one from the list (it was turned into a report, or dismissed); null when already gone. */
  async takeUnread(id: number): Promise<Unread | null> {
    const [[, v]] = (await this.redis
      .multi()
      .hget(this.k.unread, String(id))
      .hdel(this.k.unread, String(id))
      .zrem(this.k.unreadIds, String(id))
      .exec()) as [[Error | null, string | null]];
    return v ? (JSON.parse(v) as Unread) : null;
  }

  /** true the first time within the window; 催办 more often than that is not passed on. */
  async nudgeAllowed(task: number, person: string, windowMs: number): Promise<boolean> {
    return (await this.redis.set(this.k.nudge(task, person), '1', 'PX', windowMs, 'NX')) === 'OK';
  }

  /**
   * Meal feedback goes to the ledger's dated list (records.ts: <prefix>:meal:day:<date>), the same storage the
   * meal rounds write, once per source message.
   */
  async addMealFeedback(f: MealFeedback, date: string, sourceId?: string): Promise<void> {
    await new MealStore(this.redis, this.k.prefix).add(date, f, sourceId);
  }

  /** The latest feedback across days, oldest first. */
  async mealFeedback(limit = 100): Promise<MealFeedback[]> {
    return new MealStore(this.redis, this.k.prefix).recent(limit);
  }
}
