// Redis repository for tasks. Each change is one Lua script: the state check, the write, the history entry
// and the indexes happen together or not at all, so 20 workers pressing 接单 at once leave one winner.
import type { Redis } from 'ioredis';
import { keys as makeKeys, type Keys } from './keys.js';
import { finalStates, type Source, type State, type Task, type TaskEvent } from '../domain/tasks/task.js';
import type { Kind } from '../config/schema.js';
import { createDeltas, defaultStatsOptions, transitionDeltas, type StatsOptions, type StatsTriple } from './stats.js';

export interface NewTask {
  kind: Kind;
  trade?: string;
  place?: string;
  text: string;
  reporter: string;
  team: string;
  owner?: string;
  source: Source;
  urgent: boolean;
  mealRating?: number;
  checklist?: string;
  createdAt: number;
}

export interface TransitionRequest {
  /** The message making the step: made again for the same message, the step changes nothing and says ok. */
  msg?: string;
  from: readonly State[];
  /** A field whose value must equal `actor` (assignee / reporter), checked inside the script. */
  mustBe?: 'assignee' | 'reporter';
  actor: string;
  set: Partial<Record<keyof Task, string | number | boolean | undefined>>;
  incr?: Partial<Record<'rework' | 'doneCount', number>>;
  event: TaskEvent;
  /** People whose 我的 list should show this task from now on. */
  index?: string[];
}

export type TransitionResult =
  | { ok: true; task: Task }
  | { ok: false; reason: 'missing' }
  | { ok: false; reason: 'state'; state: State; task: Task }
  | { ok: false; reason: 'actor'; state: State; task: Task };

// KEYS: seq, createdBy, active, reporterIndex, created, stats… ARGV: prefix, fields (flat JSON array), event, now,
// idemTtlSec, stats (flat JSON array of KEYS index, field, amount).
const CREATE = `
local existing = redis.call('GET', KEYS[2])
if existing then return {0, existing} end
local id = redis.call('INCR', KEYS[1])
local key = ARGV[1] .. ':task:' .. id
local fields = cjson.decode(ARGV[2])
redis.call('HSET', key, 'id', id, unpack(fields))
redis.call('RPUSH', key .. ':log', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], id)
redis.call('ZADD', KEYS[4], ARGV[4], id)
redis.call('ZADD', KEYS[5], ARGV[4], id)
redis.call('SET', KEYS[2], id, 'EX', ARGV[5])
local stats = cjson.decode(ARGV[6])
for i = 1, #stats, 3 do redis.call('HINCRBY', KEYS[stats[i]], stats[i + 1], stats[i + 2]) end
return {1, tostring(id)}
`;

// KEYS: task, log, active, closed, index…, stats…, the step's mark. ARGV: from (comma list), mustBe field or '', actor,
// set (flat JSON array), incr (flat JSON array), event, now, final ('1' when the new state ends the task), del (JSON
// array of fields), number of index keys, stats (flat JSON array of KEYS index, field, amount), version the stats were
// computed from ('' = any), trim (flat JSON array of field, chunks kept), the KEYS index of the step's mark ('' = none)
// and its ttl in seconds.
// The stats were computed from the task as read before the script: if it changed meanwhile, nothing is written
// and the caller reads again ('retry'). The state and actor checks come first, so a lost race is still 'state'.
// A step its message has made already (the message is handled again: its worker died) is 'ok' and writes nothing.
const TRANSITION = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing'} end
local mark = ARGV[14] ~= '' and KEYS[tonumber(ARGV[14])]
if mark and redis.call('EXISTS', mark) == 1 then return {'ok', redis.call('HGETALL', KEYS[1])} end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == state then allowed = true end end
if not allowed then return {'state', redis.call('HGETALL', KEYS[1])} end
if ARGV[2] ~= '' then
  local who = redis.call('HGET', KEYS[1], ARGV[2])
  if who ~= ARGV[3] then return {'actor', redis.call('HGETALL', KEYS[1])} end
end
if ARGV[12] ~= '' and redis.call('HGET', KEYS[1], 'version') ~= ARGV[12] then return {'retry'} end
local set = cjson.decode(ARGV[4])
if #set > 0 then redis.call('HSET', KEYS[1], unpack(set)) end
local incr = cjson.decode(ARGV[5])
for i = 1, #incr, 2 do redis.call('HINCRBY', KEYS[1], incr[i], incr[i + 1]) end
local del = cjson.decode(ARGV[9])
if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
local trim = cjson.decode(ARGV[13])
for i = 1, #trim, 2 do
  local n = math.max(tonumber(trim[i + 1]), 1) + 1
  while redis.call('HDEL', KEYS[1], trim[i] .. '~' .. n) == 1 do n = n + 1 end
end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('RPUSH', KEYS[2], ARGV[6])
local id = redis.call('HGET', KEYS[1], 'id')
if ARGV[8] == '1' then
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[4], ARGV[7], id)
end
local nIndex = tonumber(ARGV[10])
for i = 5, 4 + nIndex do redis.call('ZADD', KEYS[i], ARGV[7], id) end
local stats = cjson.decode(ARGV[11])
for i = 1, #stats, 3 do redis.call('HINCRBY', KEYS[stats[i]], stats[i + 1], stats[i + 2]) end
if mark then redis.call('SET', mark, '1', 'EX', ARGV[15]) end
return {'ok', redis.call('HGETALL', KEYS[1])}
`;

// KEYS: the task, its copy as a message first read it. ARGV: the copy's ttl in seconds.
const SEEN_BY = `
local seen = redis.call('GET', KEYS[2])
if seen then return cjson.decode(seen) end
local h = redis.call('HGETALL', KEYS[1])
if #h > 0 then redis.call('SET', KEYS[2], cjson.encode(h), 'EX', ARGV[1]) end
return h
`;

/**
 * How long a message's first view of a task and its steps are kept: a message handled again after its worker died is
 * taken over within seconds, retried within a minute; an hour on, its reply's response_url has expired anyway.
 */
const HANDLED_AGAIN_SECONDS = 3600;

// Redis keeps a hash compact (a listpack, about a third of the memory) only while every value is at most
// hash-max-listpack-value bytes (64 by default). A report's text, its source and some notes are longer, so a long
// string is stored in pieces of at most CHUNK_BYTES: field, field~2, field~3 … (cut between characters).
const CHUNK_BYTES = 60;

function chunks(s: string): string[] {
  if (Buffer.byteLength(s) <= CHUNK_BYTES) return [s];
  const out: string[] = [];
  let cur = '';
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (used + n > CHUNK_BYTES) {
      out.push(cur);
      cur = '';
      used = 0;
    }
    cur += ch;
    used += n;
  }
  out.push(cur);
  return out;
}

/** Joins a field stored in pieces (see CHUNK_BYTES); undefined when absent. */
function joined(h: Record<string, string>, field: string): string | undefined {
  let v = h[field];
  if (v === undefined) return undefined;
  for (let i = 2; h[`${field}~${i}`] !== undefined; i++) v += h[`${field}~${i}`];
  return v;
}

/** A task's hash fields as stored (flat [field, value, …]), for writers that bypass the scripts (the benchmark). */
export function encodeTaskFields(obj: Record<string, unknown>): string[] {
  return flatten(obj).set;
}

function flatten(obj: Record<string, unknown>): { set: string[]; del: string[]; trim: (string | number)[] } {
  const set: string[] = [];
  const del: string[] = [];
  const trim: (string | number)[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) {
      del.push(k);
      trim.push(k, 0);
      continue;
    }
    const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
    const parts = chunks(text);
    set.push(k, parts[0]);
    for (let i = 1; i < parts.length; i++) set.push(`${k}~${i + 1}`, parts[i]);
    if (typeof v === 'string' || typeof v === 'object') trim.push(k, parts.length);
  }
  return { set, del, trim };
}

function hashOf(flat: string[] | undefined): Record<string, string> {
  const h: Record<string, string> = {};
  for (let i = 0; flat && i < flat.length; i += 2) h[flat[i]] = flat[i + 1];
  return h;
}

const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

export function decodeTask(h: Record<string, string>): Task | null {
  if (!h?.id) return null;
  return {
    id: Number(h.id),
    kind: h.kind as Kind,
    trade: joined(h, 'trade') || undefined,
    place: joined(h, 'place') || undefined,
    text: joined(h, 'text') ?? '',
    reporter: h.reporter,
    team: h.team,
    owner: h.owner || undefined,
    source: JSON.parse(joined(h, 'source') || '{}') as Source,
    urgent: h.urgent === 'true',
    state: h.state as State,
    assignee: h.assignee || undefined,
    assignedBy: h.assignedBy || undefined,
    acked: h.acked === 'true',
    createdAt: Number(h.createdAt),
    claimedAt: num(h.claimedAt),
    doneAt: num(h.doneAt),
    acceptedAt: num(h.acceptedAt),
    cancelledAt: num(h.cancelledAt),
    rating: num(h.rating),
    ratingText: joined(h, 'ratingText') || undefined,
    mealRating: num(h.mealRating),
    checklist: joined(h, 'checklist') || undefined,
    note: joined(h, 'note') || undefined,
    holdReason: joined(h, 'holdReason') || undefined,
    rework: Number(h.rework ?? 0),
    doneCount: Number(h.doneCount ?? 0),
    version: Number(h.version ?? 0),
  };
}

export class TaskStore {
  readonly k: Keys;
  /** Every task by createdAt (the monthly export reads a month of them in batches). */
  readonly createdKey: string;
  private stats: StatsOptions;

  constructor(
    readonly redis: Redis,
    prefix: string,
    /** Time zone of the daily stats (and SLA targets for their late counts); see stats.ts. */
    stats: Partial<StatsOptions> = {},
  ) {
    this.k = makeKeys(prefix);
    this.createdKey = `${prefix}:tasks:created`;
    this.stats = { ...defaultStatsOptions, ...stats };
  }

  /** Creates the task once per source message: a retried delivery returns the first task's id. */
  async create(t: NewTask, sourceId: string): Promise<{ id: number; created: boolean }> {
    const fields = flatten({ ...t, state: 'open', acked: false, rework: 0, doneCount: 0, version: 1 }).set;
    const event: TaskEvent = { at: t.createdAt, by: t.reporter, type: 'created', text: t.text };
    const keys = [
      this.k.taskSeq,
      this.k.createdBy(sourceId),
      this.k.active,
      this.k.byPerson(t.reporter),
      this.createdKey,
    ];
    const stats = statsArgs(createDeltas(this.k.prefix, t, this.stats), keys);
    const [created, id] = (await this.redis.eval(
      CREATE,
      keys.length,
      ...keys,
      this.k.prefix,
      JSON.stringify(fields),
      JSON.stringify(event),
      t.createdAt,
      7 * 86400,
      JSON.stringify(stats),
    )) as [number, string];
    return { id: Number(id), created: created === 1 };
  }

  /** Adds a person who reported the same problem; true when they were not following yet. */
  async follow(id: number, person: string, at: number): Promise<boolean> {
    const res = await this.redis
      .multi()
      .sadd(this.k.followers(id), person)
      .zadd(this.k.byPerson(person), at, String(id))
      .rpush(this.k.taskLog(id), JSON.stringify({ at, by: person, type: 'followed' }))
      .exec();
    return res?.[0]?.[1] === 1;
  }

  async unfollow(id: number, person: string, at: number): Promise<void> {
    await this.redis
      .multi()
      .srem(this.k.followers(id), person)
      .zrem(this.k.byPerson(person), String(id))
      .rpush(this.k.taskLog(id), JSON.stringify({ at, by: person, type: 'unfollowed' }))
      .exec();
  }

  async followers(id: number): Promise<string[]> {
    return this.redis.smembers(this.k.followers(id));
  }

  /** Remembers the open task for its kind, place and trade for `windowMs`, so a second report of it is folded in. */
  async markProblem(t: { id: number; kind: string; place?: string; trade?: string }, windowMs: number): Promise<void> {
    if (!t.place || !t.trade || windowMs <= 0) return;
    await this.redis.set(this.k.sameProblem(t.kind, t.place, t.trade), String(t.id), 'PX', windowMs);
  }

  /** The still-open task already reported for this kind, place and trade, if any. */
  async sameProblem(kind: string, place: string | undefined, trade: string | undefined): Promise<Task | null> {
    if (!place || !trade) return null;
    const id = await this.redis.get(this.k.sameProblem(kind, place, trade));
    const t = id ? await this.get(Number(id)) : null;
    return t && ['open', 'claimed', 'on_hold'].includes(t.state) ? t : null;
  }

  async get(id: number): Promise<Task | null> {
    return decodeTask(await this.redis.hgetall(this.k.task(id)));
  }

  /**
   * The task as message `msg` first read it. A message is handled again when its worker died before acknowledging it;
   * if the first handling changed the task ("已接单"), the second must not find that change and answer otherwise
   * ("已经在你名下了"): it decides on what the first saw, its step (transition with `msg`) is found made, and the outcome
   * is the first one's again, under the same job ids: whatever the first handling had not queued yet goes out.
   */
  async asSeenBy(id: number, msg: string): Promise<Task | null> {
    const flat = (await this.redis.eval(SEEN_BY, 2, this.k.task(id), this.k.seenBy(id, msg), HANDLED_AGAIN_SECONDS)) as
      | string[]
      | undefined;
    return decodeTask(hashOf(flat));
  }

  async getMany(ids: number[]): Promise<Task[]> {
    if (!ids.length) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hgetall(this.k.task(id));
    const res = (await p.exec()) ?? [];
    return res.map(([, h]) => decodeTask(h as Record<string, string>)).filter((t): t is Task => t !== null);
  }

  async transition(id: number, r: TransitionRequest, to: State): Promise<TransitionResult> {
    const { set, del, trim } = flatten({ ...r.set, state: to });
    const incr = Object.entries(r.incr ?? {}).flat();
    const indexKeys = [...new Set(r.index ?? [])].map((p) => this.k.byPerson(p));
    // The day's stats depend on the task as it was (first claim? first finish? a changed rating?): read it, and let
    // the script refuse to write if it changed meanwhile. Under contention the loser of a race fails on state anyway.
    for (let attempt = 0; ; attempt++) {
      const before = decodeTask(await this.redis.hgetall(this.k.task(id)));
      if (!before) return { ok: false, reason: 'missing' };
      const keys = [this.k.task(id), this.k.taskLog(id), this.k.active, this.k.closed, ...indexKeys];
      const stats = statsArgs(
        transitionDeltas(this.k.prefix, before, { event: r.event, set: r.set }, this.stats),
        keys,
      );
      const mark = r.msg ? keys.push(this.k.stepBy(id, r.msg, to)) : '';
      const [status, flat] = (await this.redis.eval(
        TRANSITION,
        keys.length,
        ...keys,
        r.from.join(','),
        r.mustBe ?? '',
        r.actor,
        JSON.stringify(set),
        JSON.stringify(incr),
        JSON.stringify(r.event),
        r.event.at,
        finalStates.includes(to) ? '1' : '0',
        JSON.stringify(del),
        indexKeys.length,
        JSON.stringify(stats),
        attempt < 20 ? String(before.version) : '',
        JSON.stringify(trim),
        String(mark),
        HANDLED_AGAIN_SECONDS,
      )) as [string, string[] | undefined];
      if (status === 'retry') continue;
      if (status === 'missing') return { ok: false, reason: 'missing' };
      const task = decodeTask(hashOf(flat))!;
      if (status === 'ok') return { ok: true, task };
      return { ok: false, reason: status as 'state' | 'actor', state: task.state, task };
    }
  }

  /** Ids of tasks created in [from, to) (ms), oldest first, `count` from `offset` (for batched reads). */
  async createdBetween(from: number, to: number, offset: number, count: number): Promise<number[]> {
    return (await this.redis.zrangebyscore(this.createdKey, from, `(${to}`, 'LIMIT', offset, count)).map(Number);
  }

  /** Histories of many tasks in one round trip. */
  async histories(ids: number[]): Promise<TaskEvent[][]> {
    if (!ids.length) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.lrange(this.k.taskLog(id), 0, -1);
    const res = (await p.exec()) ?? [];
    return res.map(([, l]) => ((l ?? []) as string[]).map((s) => JSON.parse(s) as TaskEvent));
  }

  /**
   * Tasks created before the created index existed are added to it (idempotent; a no-op once every task is in).
   * Reads task ids in batches, so it runs in constant memory.
   */
  async backfillCreated(batch = 1000): Promise<number> {
    const seq = Number((await this.redis.get(this.k.taskSeq)) ?? 0);
    if ((await this.redis.zcard(this.createdKey)) >= seq) return 0;
    let added = 0;
    for (let start = 1; start <= seq; start += batch) {
      const p = this.redis.pipeline();
      const ids = Array.from({ length: Math.min(batch, seq - start + 1) }, (_, i) => start + i);
      for (const id of ids) p.hget(this.k.task(id), 'createdAt');
      const res = (await p.exec()) ?? [];
      const w = this.redis.pipeline();
      ids.forEach((id, i) => {
        const at = res[i]?.[1] as string | null;
        if (at) w.zadd(this.createdKey, 'NX', at, String(id));
      });
      for (const [, n] of (await w.exec()) ?? []) added += Number(n ?? 0);
    }
    return added;
  }

  /** History entries that change no state (催办, reminders, escalations). */
  async note(id: number, event: TaskEvent): Promise<void> {
    await this.redis.rpush(this.k.taskLog(id), JSON.stringify(event));
  }

  async history(id: number): Promise<TaskEvent[]> {
    return (await this.redis.lrange(this.k.taskLog(id), 0, -1)).map((s) => JSON.parse(s) as TaskEvent);
  }

  async active(limit = 200): Promise<Task[]> {
    return this.getMany((await this.redis.zrange(this.k.active, '0', String(limit - 1))).map(Number));
  }

  /** Tasks a person reported or works on, newest first, still needing something from someone. */
  async forPerson(person: string, limit = 10): Promise<Task[]> {
    const ids = (await this.redis.zrevrange(this.k.byPerson(person), 0, 99)).map(Number);
    const tasks = await this.getMany(ids);
    return tasks.filter((t) => !finalStates.includes(t.state)).slice(0, limit);
  }

  async countByState(): Promise<Record<State, number>> {
    const tasks = await this.active(10_000);
    const out = { open: 0, claimed: 0, on_hold: 0, done: 0, accepted: 0, cancelled: 0 } as Record<State, number>;
    for (const t of tasks) out[t.state]++;
    const closed = await this.getMany((await this.redis.zrevrange(this.k.closed, 0, 999)).map(Number));
    for (const t of closed) out[t.state]++;
    return out;
  }
}

/** Stats triples as the scripts take them: the key becomes an index into KEYS (appended when new). */
function statsArgs(triples: StatsTriple[], keys: string[]): (number | string)[] {
  const out: (number | string)[] = [];
  for (const [key, field, amount] of triples) {
    let i = keys.indexOf(key);
    if (i < 0) i = keys.push(key) - 1;
    out.push(i + 1, field, String(amount));
  }
  return out;
}
