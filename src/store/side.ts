// Small pieces of state around tasks: half-finished reports, 催办 throttling, meal feedback.
import type { Redis } from 'ioredis';
import type { MealFeedback } from '../domain/records.js';
import type { Keys } from './keys.js';
import { MealStore } from './meals.js';

export type { MealFeedback };

export interface PendingReport {
  kind: string; // repair, cleaning or a kind the config adds (never meal)
  trade?: string;
  text: string;
  urgent: boolean;
  envelopeId: string;
  at: number;
}

export class SideStore {
  constructor(
    private redis: Redis,
    private k: Keys,
  ) {}

  async setPending(chat: string, person: string, p: PendingReport, ttlMs: number): Promise<void> {
    await this.redis.set(this.k.pending(chat, person), JSON.stringify(p), 'PX', ttlMs);
  }

  /** Takes the pending report (at most once: a second message cannot complete it again). */
  async takePending(chat: string, person: string): Promise<PendingReport | null> {
    const v = await this.redis.getdel(this.k.pending(chat, person));
    return v ? (JSON.parse(v) as PendingReport) : null;
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
