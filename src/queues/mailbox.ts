// Per-recipient bookkeeping of the outbox: what is waiting for each person, group or card, so that the work waiting
// for one recipient stays bounded however much is said to them. A platform lets a member receive 30 app messages a
// minute (wecom.md §5.3) and a group robot post 20; whatever comes faster waits, and while it waits
//  - an identical message to the same recipient is not queued again (one "你不在名册里" per person, not one per
//    message) — except replies that carry work, which each answer their own message;
//  - a card is superseded by a later card with the same ref for the same recipient (a claim card followed by the
//    "taken" card: only the later is sent);
//  - past `cap` waiting messages, the oldest informational ones (Outgoing.info: help, "not understood") are folded
//    into one summary message. Task notices, claim cards and reminders are never folded: the cap may be exceeded by
//    work, never by chatter.
// The outbox jobs stay the source of truth: a message that lost out is marked gone (a tombstone) and its job, if it
// was queued, completes without sending. Everything is one script call per outcome and one per send.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Outgoing, Target } from '../domain/messages.js';

/** What happened to one message posted to the mailbox. */
export type Posted =
  /** Queue its outbox job. */
  | { kind: 'add' }
  /** An identical message is already waiting for this recipient: queue nothing. */
  | { kind: 'duplicate' };

export interface PostResult {
  /** Per message, in the order given. */
  each: Posted[];
  /** Jobs that lost out (superseded or folded): they complete without sending; remove them if they can be. */
  gone: string[];
  /** New summary jobs to queue (a recipient went past the cap): its box, id and where it goes. */
  summaries: { box: string; id: string; to: Target }[];
}

export interface MailboxItem {
  box: string;
  channel: string;
  jobId: string;
  out: Outgoing;
}

export interface MailboxStats {
  /** Messages waiting, by channel. */
  waiting: Record<string, number>;
  /** Messages not sent because they were coalesced: duplicate, superseded, folded. */
  coalesced: Record<string, number>;
}

/** How long a tombstone (and a summary's text) is kept: longer than any job waits. */
const GONE_SECONDS = 7 * 86_400;
/** Lines a summary shows; the rest are counted. */
export const SUMMARY_LINES = 8;
const LINE_CHARS = 60;

/**
 * Posts messages. ARGV[1] the mailbox prefix, [2] the cap, [3] now, [4] tombstone seconds, [5] the sent-key prefix,
 * then groups of 8: box, channel, job id, flag (i = informational, w = work), signature, card ref, summary line,
 * target JSON (informational only). Returns, per message, 'add' or 'dup', then after a '|' the ids gone, then after
 * another '|' triples (box, summary id, target JSON) for new summaries.
 */
const POST = `
local P, cap, now, goneTtl, sentP = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local each, gone, sums = {}, {}, {}
local function remove(box, channel, id)
  local meta = redis.call('HGET', P .. 'm:' .. box, id)
  if redis.call('ZREM', P .. 'q:' .. box, id) == 1 then redis.call('HINCRBY', P .. 'waiting', channel, -1) end
  redis.call('ZREM', P .. 'i:' .. box, id)
  redis.call('HDEL', P .. 'm:' .. box, id)
  if meta then
    local m = cjson.decode(meta)
    if m.g ~= '' and redis.call('HGET', P .. 'g:' .. box, m.g) == id then redis.call('HDEL', P .. 'g:' .. box, m.g) end
    if m.r ~= '' and redis.call('HGET', P .. 'r:' .. box, m.r) == id then redis.call('HDEL', P .. 'r:' .. box, m.r) end
  end
  return meta
end
local function tomb(id)
  redis.call('SET', P .. 'gone:' .. id, '1', 'EX', goneTtl)
  table.insert(gone, id)
end
for i = 6, #ARGV, 8 do
  local box, channel, id, flag, sig, ref, line, to = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4], ARGV[i+5], ARGV[i+6], ARGV[i+7]
  local q = P .. 'q:' .. box
  if redis.call('ZSCORE', q, id) then
    table.insert(each, 'add') -- posted before (the outcome is applied again): its job may still need adding
  elseif redis.call('EXISTS', P .. 'gone:' .. id) == 1 or redis.call('EXISTS', sentP .. id) == 1 then
    table.insert(each, 'dup')
  else
    local other = sig ~= '' and redis.call('HGET', P .. 'g:' .. box, sig)
    if other and redis.call('ZSCORE', q, other) then
      redis.call('HINCRBY', P .. 'coalesced', 'duplicate', 1)
      table.insert(each, 'dup')
    else
      if ref ~= '' then
        local old = redis.call('HGET', P .. 'r:' .. box, ref)
        if old and redis.call('ZSCORE', q, old) then
          remove(box, channel, old)
          tomb(old)
          redis.call('HINCRBY', P .. 'coalesced', 'superseded', 1)
        end
      end
      redis.call('ZADD', q, now, id)
      redis.call('HINCRBY', P .. 'waiting', channel, 1)
      redis.call('HSET', P .. 'm:' .. box, id, cjson.encode({f = flag, g = sig, r = ref, l = line, o = to}))
      if sig ~= '' then redis.call('HSET', P .. 'g:' .. box, sig, id) end
      if ref ~= '' then redis.call('HSET', P .. 'r:' .. box, ref, id) end
      if flag == 'i' then redis.call('ZADD', P .. 'i:' .. box, now, id) end
      table.insert(each, 'add')
      -- Past the cap: fold the oldest informational messages into the open summary, or a new one.
      local n = redis.call('ZCARD', q)
      if n > cap then
        local sumId = redis.call('GET', P .. 'sj:' .. box)
        if sumId and not redis.call('ZSCORE', q, sumId) then sumId = false end
        local need = n - cap + (sumId and 0 or 1)
        -- The oldest informational ones (their own set, so a recipient with much work waiting costs no scan).
        local picks = {}
        for _, cand in ipairs(redis.call('ZRANGE', P .. 'i:' .. box, 0, need)) do
          if #picks < need and cand ~= id then table.insert(picks, cand) end
        end
        -- A new summary for a single message would save nothing.
        if #picks >= (sumId and 1 or 2) then
          local firstScore = redis.call('ZSCORE', q, picks[1])
          local lastTo = ''
          local lines = {}
          for _, cand in ipairs(picks) do
            local m = cjson.decode(remove(box, channel, cand))
            table.insert(lines, m.l)
            lastTo = m.o
            tomb(cand)
          end
          redis.call('HINCRBY', P .. 'coalesced', 'folded', #picks)
          if not sumId then
            sumId = 'sum.' .. redis.call('INCR', P .. 'seq')
            redis.call('SET', P .. 'sj:' .. box, sumId, 'EX', goneTtl)
            redis.call('ZADD', q, firstScore, sumId)
            redis.call('HINCRBY', P .. 'waiting', channel, 1)
            redis.call('HSET', P .. 'm:' .. box, sumId, cjson.encode({f = 's', g = '', r = '', l = '', o = ''}))
            table.insert(sums, box); table.insert(sums, sumId); table.insert(sums, lastTo)
          end
          local key = P .. 'sum:' .. sumId
          local s = redis.call('GET', key)
          local c = s and cjson.decode(s) or {n = 0, lines = {}}
          for _, l in ipairs(lines) do
            c.n = c.n + 1
            if #c.lines < ${SUMMARY_LINES} then table.insert(c.lines, l) end
          end
          redis.call('SET', key, cjson.encode(c), 'EX', goneTtl)
        end
      end
    end
  end
end
local out = each
table.insert(out, '|')
for _, g in ipairs(gone) do table.insert(out, g) end
table.insert(out, '|')
for _, s in ipairs(sums) do table.insert(out, s) end
return out`;

/**
 * Before a send: ARGV[1] prefix, [2] job id, [3] box, [4] the job's sent key, [5] '1' for a summary. Returns 'sent'
 * (sent before), 'gone' (coalesced away), or 'ok' and, for a summary, its content (frozen: later folds open another).
 */
const CLAIM = `
local P, id, box = ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', ARGV[4]) == 1 then return {'sent'} end
if redis.call('EXISTS', P .. 'gone:' .. id) == 1 then return {'gone'} end
if ARGV[5] ~= '1' then return {'ok'} end
if redis.call('GET', P .. 'sj:' .. box) == id then redis.call('DEL', P .. 'sj:' .. box) end
local meta = redis.call('HGET', P .. 'm:' .. box, id)
if meta then redis.call('HSET', P .. 'm:' .. box, id, cjson.encode({f = 'w', g = '', r = '', l = '', o = ''})) end
return {'ok', redis.call('GET', P .. 'sum:' .. id) or ''}`;

/**
 * After a send, or when a job is given up: ARGV[1] prefix, [2] job id, [3] box, [4] channel, [5] the sent key
 * ('' when nothing was sent), [6] its seconds.
 */
const DONE = `
local P, id, box, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if ARGV[5] ~= '' then redis.call('SET', ARGV[5], '1', 'EX', ARGV[6]) end
local meta = redis.call('HGET', P .. 'm:' .. box, id)
if redis.call('ZREM', P .. 'q:' .. box, id) == 1 then redis.call('HINCRBY', P .. 'waiting', channel, -1) end
redis.call('ZREM', P .. 'i:' .. box, id)
redis.call('HDEL', P .. 'm:' .. box, id)
redis.call('DEL', P .. 'sum:' .. id)
if meta then
  local m = cjson.decode(meta)
  if m.g ~= '' and redis.call('HGET', P .. 'g:' .. box, m.g) == id then redis.call('HDEL', P .. 'g:' .. box, m.g) end
  if m.r ~= '' and redis.call('HGET', P .. 'r:' .. box, m.r) == id then redis.call('HDEL', P .. 'r:' .. box, m.r) end
end
return 1`;

type Script = (...args: (string | number)[]) => Promise<string[]>;

export class Mailbox {
  private post_: Script;
  private claim_: Script;
  private done_: Script;
  /** The mailbox's keys start with this. */
  readonly p: string;

  constructor(
    private redis: Redis,
    prefix: string,
    /** Messages waiting per recipient before informational ones are folded (config outbox.recipientCap). */
    readonly cap: number,
    /** The key that marks an outbox job as sent (store/keys.ts `sent`). */
    private sentKey: (jobId: string) => string,
  ) {
    this.p = `${prefix}:mb:`;
    const define = (name: string, lua: string) => {
      // KEYS[1] is the mailbox's counters: every key the scripts build from the prefix shares its hash tag (the
      // site's, store/layout.ts), and a Cluster sends the call to the master of that slot.
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 1, lua });
      return (redis as unknown as Record<string, Script>)[name].bind(redis);
    };
    this.post_ = define('houqinMailPost', POST);
    this.claim_ = define('houqinMailClaim', CLAIM);
    this.done_ = define('houqinMailDone', DONE);
  }

  /** Records messages about to be queued; says which to queue, which jobs lost out, and which summaries to queue. */
  async post(items: MailboxItem[], now = Date.now()): Promise<PostResult> {
    if (!items.length) return { each: [], gone: [], summaries: [] };
    const args: (string | number)[] = [this.p, this.cap, now, GONE_SECONDS, this.sentKey('')];
    for (const it of items) {
      const info = !!it.out.info;
      args.push(
        it.box,
        it.channel,
        it.jobId,
        info ? 'i' : 'w',
        // A reply that carries work ("已登记 #12") answers its own message: identical ones are each sent. Only
        // informational replies, and messages to a person, a group or cards, are sent once while one waits.
        it.out.to.kind === 'reply' && !info ? '' : signature(it.out),
        it.out.message.type === 'card' ? it.out.message.card.ref : '',
        info ? summaryLine(it.out) : '',
        info ? JSON.stringify(it.out.to) : '',
      );
    }
    const raw = await this.post_(`${this.p}waiting`, ...args);
    const bar1 = raw.indexOf('|');
    const bar2 = raw.indexOf('|', bar1 + 1);
    const sums = raw.slice(bar2 + 1);
    const summaries: PostResult['summaries'] = [];
    for (let i = 0; i < sums.length; i += 3)
      summaries.push({ box: sums[i], id: sums[i + 1], to: JSON.parse(sums[i + 2]) as Target });
    return {
      each: raw.slice(0, bar1).map((e) => (e === 'dup' ? { kind: 'duplicate' } : { kind: 'add' })),
      gone: raw.slice(bar1 + 1, bar2),
      summaries,
    };
  }

  /** Before sending: whether to send, and a summary's content. */
  async claim(
    jobId: string,
    box: string,
    summary: boolean,
  ): Promise<{ state: 'ok' | 'sent' | 'gone'; summary?: { n: number; lines: string[] } }> {
    const [state, content] = await this.claim_(
      `${this.p}waiting`,
      this.p,
      jobId,
      box,
      this.sentKey(jobId),
      summary ? '1' : '0',
    );
    return {
      state: state as 'ok' | 'sent' | 'gone',
      summary: summary ? (content ? JSON.parse(content) : { n: 0, lines: [] }) : undefined,
    };
  }

  /** Sent (`sent`: mark it so a retry does not send again), or given up: no longer waiting. */
  async done(jobId: string, box: string, channel: string, sent: boolean): Promise<void> {
    await this.done_(`${this.p}waiting`, this.p, jobId, box, channel, sent ? this.sentKey(jobId) : '', GONE_SECONDS);
  }

  async stats(): Promise<MailboxStats> {
    const [waiting, coalesced] = await Promise.all([
      this.redis.hgetall(`${this.p}waiting`),
      this.redis.hgetall(`${this.p}coalesced`),
    ]);
    const nums = (h: Record<string, string>) =>
      Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Math.max(0, Number(v))]));
    return { waiting: nums(waiting), coalesced: nums(coalesced) };
  }

  /** Messages waiting for one recipient (tests, the operator). */
  waitingFor(box: string): Promise<number> {
    return this.redis.zcard(`${this.p}q:${box}`);
  }
}

/**
 * The recipient a message waits for, per channel: a person, a group, a task's cards, the sender of a message being
 * answered. Undefined for what is never held back (the clicked card, answered at once).
 */
export function boxOf(channel: string, to: Target): string | undefined {
  switch (to.kind) {
    case 'user':
      return `${channel}|user:${to.person}`;
    case 'chat':
      return `${channel}|chat:${to.chat}`;
    case 'reply':
      return `${channel}|from:${to.handle.channel}:${to.handle.senderPlatformId}`;
    case 'cards':
      return `${channel}|cards:${to.ref}`;
    case 'clicked_card':
      return undefined;
  }
}

/** Identical messages to one recipient have the same signature (where they go within it does not count). */
export function signature(out: Outgoing): string {
  return createHash('sha1').update(JSON.stringify(out.message)).digest('hex').slice(0, 20);
}

/** A folded message as one line of its summary. */
export function summaryLine(out: Outgoing): string {
  const m = out.message;
  const text = m.type === 'text' || m.type === 'markdown' ? m.text : m.type === 'card' ? m.card.title : m.alt;
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS - 1)}…` : line;
}

/** The text of a summary message. */
export function summaryText(s: { n: number; lines: string[] }): string {
  const more = s.n - s.lines.length;
  return [
    `📮 消息较多，以下 ${s.n} 条提示合并为一条发送：`,
    ...s.lines.map((l) => `· ${l}`),
    ...(more > 0 ? [`……另有 ${more} 条`] : []),
  ].join('\n');
}
