// Meal feedback in Redis, in the ledger's shape (src/domain/records.ts): one list per day, in arrival order.
// Also the open meal rounds (which meal a chat was just asked about, until when) and a once-per-day claim for
// the menu and round posts.
import type { Redis } from 'ioredis';
import { recordKeys, type MealFeedback } from '../domain/records.js';

/** The meal a chat was asked about, taken as the subject of bare scores until `until`. */
export interface OpenRound {
  meal: string;
  date: string;
  askedAt: number;
  until: number;
  dishes?: string;
}

// KEYS: day list. ARGV: index, expected JSON, new JSON.
const SWAP = `
if redis.call('LINDEX', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('LSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`;

// KEYS: day list, days index, seen marker. ARGV: JSON, day score, '1' when deduped by source, date.
const ADD = `
if ARGV[3] == '1' and not redis.call('SET', KEYS[3], '1', 'NX', 'EX', 7 * 86400) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
return 1
`;

const DAY_MS = 86_400_000;

export class MealStore {
  private keys: ReturnType<typeof recordKeys>;

  constructor(
    private redis: Redis,
    private prefix: string,
  ) {
    this.keys = recordKeys(prefix);
  }

  /** Days that have feedback (score yyyymmdd), so "the latest N" needs no scan. */
  private get days(): string {
    return `${this.prefix}:meal:days`;
  }

  /** Appends once per `sourceId` (the message it came from): a retried delivery adds nothing. */
  async add(date: string, f: MealFeedback, sourceId?: string): Promise<boolean> {
    const seen = sourceId ? `${this.prefix}:meal:seen:${sourceId}` : '';
    const added = await this.redis.eval(ADD, 3, this.keys.mealDay(date), this.days, seen || this.days, JSON.stringify(f), Number(date.replace(/-/g, '')), seen ? '1' : '', date);
    return added === 1;
  }

  async day(date: string): Promise<MealFeedback[]> {
    return (await this.redis.lrange(this.keys.mealDay(date), 0, -1)).map((s) => JSON.parse(s) as MealFeedback);
  }

  /** The latest `limit` entries across days, oldest first. */
  async recent(limit = 100): Promise<MealFeedback[]> {
    const out: MealFeedback[] = [];
    for (const date of await this.redis.zrevrange(this.days, 0, 60)) {
      out.unshift(...(await this.redis.lrange(this.keys.mealDay(date), -(limit - out.length), -1)).map((s) => JSON.parse(s) as MealFeedback));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Sets `answer` on the feedback that opened `task` (looked for on the given days). False when none did. */
  async answer(task: number, dates: string[], answer: NonNullable<MealFeedback['answer']>): Promise<boolean> {
    for (const date of dates) {
      const key = this.keys.mealDay(date);
      for (let attempt = 0; attempt < 20; attempt++) {
        const list = await this.redis.lrange(key, 0, -1);
        const i = list.findIndex((s) => (JSON.parse(s) as MealFeedback).task === task);
        if (i < 0) break;
        const next = JSON.stringify({ ...(JSON.parse(list[i]) as MealFeedback), answer });
        if ((await this.redis.eval(SWAP, 1, key, i, list[i], next)) === 1) return true;
      }
    }
    return false;
  }

  private roundKey(chat: string): string {
    return `${this.prefix}:meal:round:${chat}`;
  }

  /** The newest ask wins: a chat asked about 午点 while 午餐's window is still open now rates 午点. */
  async openRound(chat: string, r: OpenRound): Promise<void> {
    await this.redis.set(this.roundKey(chat), JSON.stringify(r), 'PX', Math.max(r.until - Date.now(), 0) + DAY_MS);
  }

  async round(chat: string): Promise<OpenRound | undefined> {
    const s = await this.redis.get(this.roundKey(chat));
    return s ? (JSON.parse(s) as OpenRound) : undefined;
  }
}

/**
 * True for the firing that first claims `what` (a menu post, a meal round's ask) and for retries of that same
 * firing; false for any other firing (a manual re-run of the same day repeats nothing).
 */
export async function firstFiring(redis: Redis, prefix: string, what: string, firing: string): Promise<boolean> {
  const key = `${prefix}:once:${what}`;
  const [, owner] = (await redis.multi().set(key, firing, 'EX', 3 * 86_400, 'NX').get(key).exec()) ?? [];
  return owner?.[1] === firing;
}
