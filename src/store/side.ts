// Small pieces of state around tasks: half-finished reports, 催办 throttling, meal feedback.
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

export interface PendingReport {
  kind: 'repair' | 'cleaning';
  trade?: string;
  text: string;
  urgent: boolean;
  envelopeId: string;
  at: number;
}

export interface MealFeedback {
  at: number;
  person: string;
  rating?: number;
  text?: string;
  urgent: boolean;
  task?: number;
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

  async peekPending(chat: string, person: string): Promise<boolean> {
    return (await this.redis.exists(this.k.pending(chat, person))) === 1;
  }

  /** true the first time within the window; 催办 more often than that is not passed on. */
  async nudgeAllowed(task: number, person: string, windowMs: number): Promise<boolean> {
    return (await this.redis.set(this.k.nudge(task, person), '1', 'PX', windowMs, 'NX')) === 'OK';
  }

  async addMealFeedback(f: MealFeedback): Promise<void> {
    await this.redis.rpush(this.k.meals, JSON.stringify(f));
  }

  async mealFeedback(limit = 100): Promise<MealFeedback[]> {
    return (await this.redis.lrange(this.k.meals, -limit, -1)).map((s) => JSON.parse(s) as MealFeedback);
  }
}
