// What Redis knows about photos (their bytes are files: src/store/media.ts): which photos a task has, the photos a
// person sent that wait for a report, and each person's latest report and 完工 (the 5-minute windows in which a
// photo joins them). Also which pictures a received message turned into, so a retried message is not fetched again.
import type { Redis } from 'ioredis';

export interface PhotoRef {
  /** SHA-256 of the bytes: the file's name in the media folder. */
  hash: string;
  mime: string;
  size: number;
}

/** report: sent with or just after the report; done: the worker's proof with or just after 完工. */
export type PhotoKind = 'report' | 'done';

export interface TaskPhoto extends PhotoRef {
  kind: PhotoKind;
  by: string; // person id
  at: number;
}

export interface PendingPhoto extends PhotoRef {
  at: number;
}

/** A person's latest report (per chat) or 完工 (per person): the task, and when. */
export interface RecentStep {
  task: number;
  at: number;
}

/** At most this many photos per task; more are not attached (a report is not an album). */
export const MAX_PHOTOS_PER_TASK = 20;

// KEYS[1] the task's photo hash. ARGV: the cap, then hash, JSON pairs. Returns how many were new.
const ATTACH = `
local added = 0
for i = 2, #ARGV, 2 do
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[1]) then break end
  added = added + redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
end
return added`;

export class PhotoStore {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
  ) {}

  /** Over the same Redis and prefix as a task store (for the step hooks, which get a StepKit). */
  static of(tasks: { redis: Redis; k: { prefix: string } }): PhotoStore {
    return new PhotoStore(tasks.redis, tasks.k.prefix);
  }

  private taskKey(id: number) {
    return `${this.prefix}:task:${id}:photos`;
  }
  private pendingKey(chatKey: string, person: string) {
    return `${this.prefix}:photo:pending:${chatKey}:${person}`;
  }
  private recentKey(kind: PhotoKind, scope: string) {
    return `${this.prefix}:photo:last:${kind}:${scope}`;
  }
  private resolvedKey(envelopeId: string) {
    return `${this.prefix}:photo:env:${envelopeId}`;
  }

  /** Adds photos to a task, each picture once; returns the ones that were new. */
  async attach(task: number, photos: TaskPhoto[]): Promise<TaskPhoto[]> {
    const fresh: TaskPhoto[] = [];
    for (const p of photos) {
      const n = (await this.redis.eval(
        ATTACH,
        1,
        this.taskKey(task),
        MAX_PHOTOS_PER_TASK,
        p.hash,
        JSON.stringify(p),
      )) as number;
      if (n) fresh.push(p);
    }
    return fresh;
  }

  /** A task's photos, oldest first. */
  async list(task: number): Promise<TaskPhoto[]> {
    return order(Object.values(await this.redis.hgetall(this.taskKey(task))));
  }

  /** Photos of many tasks in one round trip (the board, the ledger). */
  async forTasks(ids: number[]): Promise<Map<number, TaskPhoto[]>> {
    const out = new Map<number, TaskPhoto[]>();
    if (!ids.length) return out;
    const p = this.redis.pipeline();
    for (const id of ids) p.hvals(this.taskKey(id));
    const res = (await p.exec()) ?? [];
    ids.forEach((id, i) => {
      const vals = (res[i]?.[1] ?? []) as string[];
      if (vals.length) out.set(id, order(vals));
    });
    return out;
  }

  /** A photo that waits for this person's next report in this chat. Kept for `ttlMs` (real time). */
  async addPending(chatKey: string, person: string, p: PendingPhoto, ttlMs: number): Promise<void> {
    const key = this.pendingKey(chatKey, person);
    await this.redis.multi().rpush(key, JSON.stringify(p)).pexpire(key, ttlMs).exec();
  }

  /** Takes (at most once) the waiting photos sent at or after `since`; each picture once. */
  async takePending(chatKey: string, person: string, since: number): Promise<PendingPhoto[]> {
    const key = this.pendingKey(chatKey, person);
    const res = await this.redis.multi().lrange(key, 0, -1).del(key).exec();
    const raw = (res?.[0]?.[1] ?? []) as string[];
    const seen = new Set<string>();
    const out: PendingPhoto[] = [];
    for (const s of raw) {
      const p = JSON.parse(s) as PendingPhoto;
      if (p.at < since || seen.has(p.hash)) continue;
      seen.add(p.hash);
      out.push(p);
    }
    return out;
  }

  /** Remembers a person's latest report (scope: chat and person) or 完工 (scope: person). */
  async setRecent(kind: PhotoKind, scope: string, step: RecentStep, ttlMs: number): Promise<void> {
    await this.redis.set(this.recentKey(kind, scope), JSON.stringify(step), 'PX', ttlMs);
  }

  async recent(kind: PhotoKind, scope: string): Promise<RecentStep | null> {
    const v = await this.redis.get(this.recentKey(kind, scope));
    return v ? (JSON.parse(v) as RecentStep) : null;
  }

  /** What a received message's pictures became, so a retry of the message does not fetch them again. */
  async resolved<T>(envelopeId: string): Promise<T | undefined> {
    const v = await this.redis.get(this.resolvedKey(envelopeId));
    return v ? (JSON.parse(v) as T) : undefined;
  }

  async setResolved(envelopeId: string, value: unknown): Promise<void> {
    await this.redis.set(this.resolvedKey(envelopeId), JSON.stringify(value), 'EX', 86_400);
  }
}

function order(vals: string[]): TaskPhoto[] {
  return vals.map((v) => JSON.parse(v) as TaskPhoto).sort((a, b) => a.at - b.at || a.hash.localeCompare(b.hash));
}
