// Checklist sheets in Redis, in the ledger's shape (src/domain/records.ts): one hash per school day, sheet id →
// JSON. Changes are compare-and-set on the JSON, so two answers arriving at once for one sheet both land.
import type { Redis } from 'ioredis';
import { recordKeys, type ChecklistSheet } from '../domain/records.js';

// KEYS: day hash, post claim. ARGV: sheet id, sheet JSON, firing, claim ttl (s).
// The sheet is written once per day; the firing that wrote it owns its post (so a retry of that firing posts
// again with the same job ids, and any other firing of the same day posts nothing).
const CREATE = `
local created = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
if created == 1 then redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4]) end
return {created, redis.call('GET', KEYS[2]) or ''}
`;

// KEYS: day hash. ARGV: sheet id, expected JSON, new JSON.
const SWAP = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`;

const CLAIM_TTL_S = 3 * 86_400;

export class ChecklistStore {
  private keys: ReturnType<typeof recordKeys>;

  constructor(
    private redis: Redis,
    private prefix: string,
  ) {
    this.keys = recordKeys(prefix);
  }

  /** Stores the sheet unless that day already has it. `post`: this firing should post it. */
  async create(sheet: ChecklistSheet, firing: string): Promise<{ created: boolean; post: boolean }> {
    const [created, owner] = (await this.redis.eval(
      CREATE,
      2,
      this.keys.checklistDay(sheet.date),
      `${this.prefix}:cl:post:${sheet.date}:${sheet.id}`,
      sheet.id,
      JSON.stringify(sheet),
      firing,
      CLAIM_TTL_S,
    )) as [number, string];
    return { created: created === 1, post: owner === firing };
  }

  async day(date: string): Promise<ChecklistSheet[]> {
    const all = await this.redis.hgetall(this.keys.checklistDay(date));
    return Object.values(all)
      .map((s) => JSON.parse(s) as ChecklistSheet)
      .sort((a, b) => a.postedAt - b.postedAt || a.id.localeCompare(b.id, 'en', { numeric: true }));
  }

  async get(date: string, id: string): Promise<ChecklistSheet | undefined> {
    const s = await this.redis.hget(this.keys.checklistDay(date), id);
    return s ? (JSON.parse(s) as ChecklistSheet) : undefined;
  }

  /**
   * Read, change, write back — again if someone else wrote in between. `change` returns the new sheet, or
   * undefined to leave it as it is. It may run more than once, so it must not have side effects of its own.
   */
  async update(
    date: string,
    id: string,
    change: (s: ChecklistSheet) => ChecklistSheet | undefined,
  ): Promise<ChecklistSheet | undefined> {
    const key = this.keys.checklistDay(date);
    for (let attempt = 0; attempt < 20; attempt++) {
      const before = await this.redis.hget(key, id);
      if (!before) return undefined;
      const next = change(JSON.parse(before) as ChecklistSheet);
      if (!next) return undefined;
      if ((await this.redis.eval(SWAP, 1, key, id, before, JSON.stringify(next))) === 1) return next;
    }
    throw new Error(`checklist sheet ${date}/${id} kept changing under us`);
  }
}
