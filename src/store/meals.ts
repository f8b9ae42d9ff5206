// Meal feedback in Redis, in the ledger's shape (src/domain/records.ts): one list per day, in arrival order; a
// round's score is kept once per person and meal (a second score replaces the first in place).
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

// One score per person per meal and day: replaces that person's score for the meal (compare-and-set against what the
// caller read) or appends the first one. KEYS: day list, days index, seen marker. ARGV: JSON, day score, '1' when
// deduped by source, date, person, meal, the stored entry the caller read ('' = none).
const PUT_RATING = `
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return 'dup' end
local list = redis.call('LRANGE', KEYS[1], 0, -1)
local found = nil
for i = #list, 1, -1 do
  local ok, e = pcall(cjson.decode, list[i])
  if ok and type(e) == 'table' and e.person == ARGV[5] and e.meal == ARGV[6] and type(e.rating) == 'number' then
    found = i
    break
  end
end
local result = 'added'
if found then
  if list[found] ~= ARGV[7] then return 'conflict' end
  redis.call('LSET', KEYS[1], found - 1, ARGV[1])
  result = 'replaced'
else
  if ARGV[7] ~= '' then return 'conflict' end
  redis.call('RPUSH', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
end
if ARGV[3] == '1' then redis.call('SET', KEYS[3], '1', 'EX', 7 * 86400) end
return result
`;

/** A person's stored score for a meal, as read: the entry and its exact stored form (for the compare-and-set). */
export interface StoredRating {
  feedback: MealFeedback;
  raw: string;
}

export type PutRatingResult = 'added' | 'replaced' | 'conflict' | 'dup';

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
    const added = await this.redis.eval(
      ADD,
      3,
      this.keys.mealDay(date),
      this.days,
      seen || this.days,
      JSON.stringify(f),
      Number(date.replace(/-/g, '')),
      seen ? '1' : '',
      date,
    );
    return added === 1;
  }

  /** The person's score for that meal on that day (the latest, should older data hold two), or undefined. */
  async ratingOf(date: string, person: string, meal: string): Promise<StoredRating | undefined> {
    const list = await this.redis.lrange(this.keys.mealDay(date), 0, -1);
    for (let i = list.length - 1; i >= 0; i--) {
      const f = JSON.parse(list[i]) as MealFeedback;
      if (f.person === person && f.meal === meal && typeof f.rating === 'number') return { feedback: f, raw: list[i] };
    }
    return undefined;
  }

  /**
   * Stores `f` (which names its meal) as the person's one score for that meal and day: it replaces `prev` — what
   * ratingOf returned — or is appended when there was none. 'conflict' when the stored score is no longer `prev`
   * (read again and retry); 'dup' when `sourceId` was taken before (a retried delivery).
   */
  async putRating(
    date: string,
    f: MealFeedback & { meal: string },
    prev: StoredRating | undefined,
    sourceId?: string,
  ): Promise<PutRatingResult> {
    const seen = sourceId ? `${this.prefix}:meal:seen:${sourceId}` : '';
    return (await this.redis.eval(
      PUT_RATING,
      3,
      this.keys.mealDay(date),
      this.days,
      seen || this.days,
      JSON.stringify(f),
      Number(date.replace(/-/g, '')),
      seen ? '1' : '',
      date,
      f.person,
      f.meal,
      prev?.raw ?? '',
    )) as PutRatingResult;
  }

  async day(date: string): Promise<MealFeedback[]> {
    return (await this.redis.lrange(this.keys.mealDay(date), 0, -1)).map((s) => JSON.parse(s) as MealFeedback);
  }

  /** The latest `limit` entries across days, oldest first. */
  async recent(limit = 100): Promise<MealFeedback[]> {
    const out: MealFeedback[] = [];
    for (const date of await this.redis.zrevrange(this.days, 0, 60)) {
      out.unshift(
        ...(await this.redis.lrange(this.keys.mealDay(date), -(limit - out.length), -1)).map(
          (s) => JSON.parse(s) as MealFeedback,
        ),
      );
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
  const [, owner] =
    (await redis
      .multi()
      .set(key, firing, 'EX', 3 * 86_400, 'NX')
      .get(key)
      .exec()) ?? [];
  return owner?.[1] === firing;
}
