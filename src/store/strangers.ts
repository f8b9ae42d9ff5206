// Messages from people who are not on the roster (名册外). A new teacher the manager forgot to add writes like anyone
// else; a misconfigured script or a stranger may write a hundred thousand times. Either way the sender gets one
// polite reply an hour and nothing more, and the manager gets a short list: one line per sender with how many
// messages, when, and the last few texts (`houqin inbox unknown`, the console's 名册外 panel).
//
// One script per message: the reply gate (SET NX EX), the sender's count and last texts, and the list's bound, so a
// flood costs one round trip a message and a fixed amount of memory, whatever its length.
import type { Redis } from 'ioredis';

/** One sender not on the roster, as the manager sees it. */
export interface Stranger {
  /** channel:platformId — what the manager adds to the roster (people[].wecom / .dingtalk). */
  id: string;
  channel: string;
  platformId: string;
  /** Where they last wrote from (a chat id, or their own id for a 1:1 chat). */
  chat: string;
  first: number;
  last: number;
  count: number;
  /** Their latest messages, newest first (at most `textsKept`). */
  texts: string[];
}

/** Senders kept; past this the one silent longest is dropped. */
const SENDERS_KEPT = 200;
/** Texts kept per sender. */
const TEXTS_KEPT = 5;
const TEXT_MAX = 200;
/** Nothing written for this long and the sender is forgotten. */
const KEEP_SECONDS = 30 * 86_400;

/**
 * KEYS: the reply gate, the senders' zset (by last message), the sender's hash, the sender's text list.
 * ARGV: member id, now (ms), gate seconds, channel, platformId, chat, text, kept senders, kept texts, keep seconds,
 * the prefix of a sender's keys (to drop the one pushed out).
 * Returns 1 when the sender should be answered (the first message within the gate), else 0.
 */
const NOTE = `
local answer = 0
if redis.call('SET', KEYS[1], '1', 'EX', ARGV[3], 'NX') then answer = 1 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSETNX', KEYS[3], 'first', ARGV[2])
redis.call('HSET', KEYS[3], 'last', ARGV[2], 'channel', ARGV[4], 'platformId', ARGV[5], 'chat', ARGV[6])
redis.call('HINCRBY', KEYS[3], 'count', 1)
if ARGV[7] ~= '' then
  redis.call('LPUSH', KEYS[4], ARGV[7])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[9]) - 1)
end
redis.call('EXPIRE', KEYS[3], ARGV[10])
redis.call('EXPIRE', KEYS[4], ARGV[10])
redis.call('EXPIRE', KEYS[2], ARGV[10])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[8])
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do
    redis.call('DEL', ARGV[11] .. id, ARGV[11] .. id .. ':texts')
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
return answer`;

type Note = (...args: (string | number)[]) => Promise<number>;

export class StrangerStore {
  private note: Note;

  constructor(
    private redis: Redis,
    private prefix: string,
  ) {
    if (!('houqinStranger' in redis)) redis.defineCommand('houqinStranger', { numberOfKeys: 4, lua: NOTE });
    this.note = (redis as unknown as { houqinStranger: Note }).houqinStranger.bind(redis);
  }

  private get ids(): string {
    return `${this.prefix}:strangers`;
  }

  private sender(id: string): string {
    return `${this.prefix}:stranger:${id}`;
  }

  /**
   * Keeps a message from someone not on the roster. True when they should get the polite reply: their first message
   * within `gateSeconds` (an hour by default).
   */
  async record(
    m: { channel: string; platformId: string; chat: string; text: string; at: number },
    gateSeconds = 3600,
  ): Promise<boolean> {
    const id = `${m.channel}:${m.platformId}`;
    const answer = await this.note(
      `${this.prefix}:stranger-replied:${id}`,
      this.ids,
      this.sender(id),
      `${this.sender(id)}:texts`,
      id,
      m.at,
      gateSeconds,
      m.channel,
      m.platformId,
      m.chat,
      m.text.slice(0, TEXT_MAX),
      SENDERS_KEPT,
      TEXTS_KEPT,
      KEEP_SECONDS,
      `${this.prefix}:stranger:`,
    );
    return answer === 1;
  }

  /** Senders, the latest first. */
  async list(limit = 50): Promise<Stranger[]> {
    const ids = await this.redis.zrevrange(this.ids, 0, limit - 1);
    if (!ids.length) return [];
    const p = this.redis.pipeline();
    for (const id of ids) {
      p.hgetall(this.sender(id));
      p.lrange(`${this.sender(id)}:texts`, 0, -1);
    }
    const res = (await p.exec()) ?? [];
    const out: Stranger[] = [];
    ids.forEach((id, i) => {
      const h = (res[2 * i]?.[1] ?? {}) as Record<string, string>;
      const texts = (res[2 * i + 1]?.[1] ?? []) as string[];
      if (!h.last) return; // expired between the two reads
      out.push({
        id,
        channel: h.channel,
        platformId: h.platformId,
        chat: h.chat,
        first: Number(h.first),
        last: Number(h.last),
        count: Number(h.count),
        texts,
      });
    });
    return out;
  }

  /** The manager dealt with them (added them to the roster, or decided to ignore them). */
  async dismiss(id: string): Promise<boolean> {
    const [[, n]] = (await this.redis
      .multi()
      .zrem(this.ids, id)
      .del(this.sender(id), `${this.sender(id)}:texts`)
      .exec()) as [[Error | null, number]];
    return n === 1;
  }
}
