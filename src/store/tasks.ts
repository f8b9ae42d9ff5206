// Redis repository for tasks. Each change is one Lua script: the state check, the write, the history entry
// and the indexes happen together or not at all, so 20 workers pressing 接单 at once leave one winner.
import type { Redis } from 'ioredis';
import { keys as makeKeys, type Keys } from './keys.js';
import { finalStates, type Source, type State, type Task, type TaskEvent } from '../domain/task.js';
import type { Kind } from '../config/schema.js';

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

// KEYS: seq, createdBy, active, reporterIndex. ARGV: prefix, fields (flat JSON array), event, now, idemTtlSec.
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
redis.call('SET', KEYS[2], id, 'EX', ARGV[5])
return {1, tostring(id)}
`;

// KEYS: task, log, active, closed, index... ARGV: from (comma list), mustBe field or '', actor, set (flat JSON
// array), incr (flat JSON array), event, now, final ('1' when the new state ends the task), del (JSON array of fields).
const TRANSITION = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing'} end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == state then allowed = true end end
if not allowed then return {'state'} end
if ARGV[2] ~= '' then
  local who = redis.call('HGET', KEYS[1], ARGV[2])
  if who ~= ARGV[3] then return {'actor'} end
end
local set = cjson.decode(ARGV[4])
if #set > 0 then redis.call('HSET', KEYS[1], unpack(set)) end
local incr = cjson.decode(ARGV[5])
for i = 1, #incr, 2 do redis.call('HINCRBY', KEYS[1], incr[i], incr[i + 1]) end
local del = cjson.decode(ARGV[9])
if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('RPUSH', KEYS[2], ARGV[6])
local id = redis.call('HGET', KEYS[1], 'id')
if ARGV[8] == '1' then
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[4], ARGV[7], id)
end
for i = 5, #KEYS do redis.call('ZADD', KEYS[i], ARGV[7], id) end
return {'ok'}
`;

function flatten(obj: Record<string, unknown>): { set: string[]; del: string[] } {
  const set: string[] = [];
  const del: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) del.push(k);
    else set.push(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  return { set, del };
}

const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

export function decodeTask(h: Record<string, string>): Task | null {
  if (!h || !h.id) return null;
  return {
    id: Number(h.id),
    kind: h.kind as Kind,
    trade: h.trade || undefined,
    place: h.place || undefined,
    text: h.text ?? '',
    reporter: h.reporter,
    team: h.team,
    owner: h.owner || undefined,
    source: JSON.parse(h.source || '{}') as Source,
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
    ratingText: h.ratingText || undefined,
    mealRating: num(h.mealRating),
    checklist: h.checklist || undefined,
    note: h.note || undefined,
    holdReason: h.holdReason || undefined,
    rework: Number(h.rework ?? 0),
    doneCount: Number(h.doneCount ?? 0),
    version: Number(h.version ?? 0),
  };
}

export class TaskStore {
  readonly k: Keys;

  constructor(
    readonly redis: Redis,
    prefix: string,
  ) {
    this.k = makeKeys(prefix);
  }

  /** Creates the task once per source message: a retried delivery returns the first task's id. */
  async create(t: NewTask, sourceId: string): Promise<{ id: number; created: boolean }> {
    const fields = flatten({ ...t, state: 'open', acked: false, rework: 0, doneCount: 0, version: 1 }).set;
    const event: TaskEvent = { at: t.createdAt, by: t.reporter, type: 'created', text: t.text };
    const [created, id] = (await this.redis.eval(
      CREATE, 4, this.k.taskSeq, this.k.createdBy(sourceId), this.k.active, this.k.byPerson(t.reporter),
      this.k.prefix, JSON.stringify(fields), JSON.stringify(event), t.createdAt, 7 * 86400,
    )) as [number, string];
    return { id: Number(id), created: created === 1 };
  }

  async get(id: number): Promise<Task | null> {
    return decodeTask(await this.redis.hgetall(this.k.task(id)));
  }

  async getMany(ids: number[]): Promise<Task[]> {
    if (!ids.length) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hgetall(this.k.task(id));
    const res = (await p.exec()) ?? [];
    return res.map(([, h]) => decodeTask(h as Record<string, string>)).filter((t): t is Task => t !== null);
  }

  async transition(id: number, r: TransitionRequest, to: State): Promise<TransitionResult> {
    const { set, del } = flatten({ ...r.set, state: to });
    const incr = Object.entries(r.incr ?? {}).flat();
    const indexKeys = [...new Set(r.index ?? [])].map((p) => this.k.byPerson(p));
    const [status] = (await this.redis.eval(
      TRANSITION, 4 + indexKeys.length,
      this.k.task(id), this.k.taskLog(id), this.k.active, this.k.closed, ...indexKeys,
      r.from.join(','), r.mustBe ?? '', r.actor, JSON.stringify(set), JSON.stringify(incr),
      JSON.stringify(r.event), r.event.at, finalStates.includes(to) ? '1' : '0', JSON.stringify(del),
    )) as [string];
    if (status === 'missing') return { ok: false, reason: 'missing' };
    const task = (await this.get(id))!;
    if (status === 'ok') return { ok: true, task };
    return { ok: false, reason: status as 'state' | 'actor', state: task.state, task };
  }

  /** History entries that change no state (催办, reminders, escalations). */
  async note(id: number, event: TaskEvent): Promise<void> {
    await this.redis.rpush(this.k.taskLog(id), JSON.stringify(event));
  }

  async history(id: number): Promise<TaskEvent[]> {
    return (await this.redis.lrange(this.k.taskLog(id), 0, -1)).map((s) => JSON.parse(s) as TaskEvent);
  }

  async active(limit = 200): Promise<Task[]> {
    return this.getMany((await this.redis.zrange(this.k.active, "0", String(limit - 1))).map(Number));
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
