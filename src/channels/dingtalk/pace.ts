// A custom robot may post 20 messages a minute; the 21st is refused and the robot is blocked for 10 minutes
// (dingtalk.md §3.3). So every send first takes a place in the robot's window, kept in Redis and shared by every
// instance (store/rate.ts, a sorted set), with a margin: 18 in 62 s by default. When the window is full nothing is
// dropped and nothing waits in a loop: the message is parked for its robot and its outbox job is scheduled for the
// moment the window opens (RetryLater). The first send that gets a place then carries every parked message that fits
// in one body, merged; the jobs of the carried messages find them sent when they wake, and complete.
//
// The outbox job stays the source of truth. A parked message is only an offer to be carried: if the carrying send
// fails, the messages go back to the park and each job sends its own later; if the process dies mid-send, the
// claim lapses (claimMs) and the jobs send their own then (at least once, never lost).
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../../store/keys.js';
import { RateLimiter } from '../../store/rate.js';
import { RetryLater } from '../channel.js';

/** One message as it can be merged: markdown, and the staffIds it @-mentions. */
export interface Parcel {
  title: string;
  text: string;
  at: string[];
}

export interface PaceOptions {
  /** Sends allowed per window: DingTalk's 20 less a margin. */
  perWindow: number;
  /** The window: DingTalk's minute plus a margin for clock skew and time on the wire. */
  windowMs: number;
  /** Bytes of markdown one merged send may carry (the body limit is 20 000 bytes with the JSON around it). */
  maxBytes: number;
  /** How long a send may hold the messages it carries before they are free again (longer than a request's timeout). */
  claimMs: number;
}

export const webhookPace: PaceOptions = { perWindow: 18, windowMs: 62_000, maxBytes: 15_000, claimMs: 30_000 };

const DAY_MS = 86_400_000;
const CARRIED_SEC = 7 * 86_400;

/** Claims the parked messages one send can carry (oldest first, within the byte budget), the sender's own included. */
const CLAIM = `
local own = ARGV[1]
local claimed, carried = ARGV[2], ARGV[3]
if redis.call('EXISTS', carried .. own) == 1 then return {'carried'} end
if redis.call('EXISTS', claimed .. own) == 1 then return {'claimed'} end
local budget = tonumber(ARGV[5]) - tonumber(ARGV[6])
local ids = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local out = {'ok'}
local full = false
for i = 1, #ids, 2 do
  local id, score = ids[i], ids[i + 1]
  if id == own then
    table.insert(out, id); table.insert(out, score); table.insert(out, '')
    redis.call('ZREM', KEYS[1], id); redis.call('HDEL', KEYS[2], id)
  elseif not full then
    local body = redis.call('HGET', KEYS[2], id)
    if not body then
      redis.call('ZREM', KEYS[1], id)
    elseif string.len(body) > budget then
      full = true
    else
      budget = budget - string.len(body)
      redis.call('SET', claimed .. id, own, 'PX', ARGV[4])
      redis.call('ZREM', KEYS[1], id); redis.call('HDEL', KEYS[2], id)
      table.insert(out, id); table.insert(out, score); table.insert(out, body)
    end
  end
end
return out
`;

/** Parks a message for its robot, unless a send has claimed or carried it meanwhile. */
const PARK = `
if redis.call('EXISTS', ARGV[4] .. ARGV[1]) == 1 then return 'carried' end
if redis.call('EXISTS', ARGV[5] .. ARGV[1]) == 1 then return 'claimed' end
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 'parked'
`;

interface Claimed {
  id: string;
  queuedAt: number;
  parcel: Parcel;
}

export class RobotPace {
  private limiter: RateLimiter;

  constructor(
    private redis: Redis,
    private k: Keys,
    readonly opts: PaceOptions = webhookPace,
    private now: () => number = Date.now,
  ) {
    this.limiter = new RateLimiter(redis);
  }

  /** A robot's name in Redis keys: a hash of its webhook, never the token itself. */
  static robotId(webhook: string): string {
    const token = new URL(webhook).searchParams.get('access_token') ?? webhook;
    return createHash('sha256').update(token).digest('hex').slice(0, 16);
  }

  private key(robot: string, part = '') {
    return this.k.rate(`dingtalk:robot:${robot}${part}`);
  }
  private get claimedPrefix() {
    return this.k.rate('dingtalk:claimed:');
  }
  private get carriedPrefix() {
    return this.k.rate('dingtalk:carried:');
  }

  /**
   * Sends job `jobId`'s message through `robot` within its window. `post` gets the messages to send in the order
   * they were queued — this one alone, or several to merge — and throws as the platform refused. Returns when sent
   * (alone or carried by another send); throws RetryLater when the job must wait, and whatever `post` threw.
   */
  async send(robot: string, jobId: string, own: Parcel, post: (batch: Parcel[]) => Promise<void>): Promise<void> {
    const ownJson = JSON.stringify(own);
    const [carried, claimMs] = await Promise.all([
      this.redis.exists(this.carriedPrefix + jobId),
      this.redis.pttl(this.claimedPrefix + jobId),
    ]);
    if (carried) return;
    if (claimMs > 0) throw this.inFlight(claimMs);
    const now = this.now();
    const wait = await this.limiter.take(this.key(robot), this.opts.perWindow, this.opts.windowMs, jobId, now);
    if (wait > 0) {
      const parked = String(
        await this.redis.eval(
          PARK,
          2,
          this.key(robot, ':wait'),
          this.key(robot, ':parcels'),
          jobId,
          now,
          ownJson,
          this.carriedPrefix,
          this.claimedPrefix,
          DAY_MS,
        ),
      );
      if (parked === 'carried') return;
      throw new RetryLater(
        parked === 'claimed' ? 1000 : wait,
        `custom robot at ${this.opts.perWindow} messages per ${this.opts.windowMs / 1000}s; waits for the window`,
      );
    }
    const res = (await this.redis.eval(
      CLAIM,
      2,
      this.key(robot, ':wait'),
      this.key(robot, ':parcels'),
      jobId,
      this.claimedPrefix,
      this.carriedPrefix,
      this.opts.claimMs,
      this.opts.maxBytes,
      Buffer.byteLength(ownJson),
    )) as string[];
    if (res[0] === 'carried') return;
    if (res[0] === 'claimed') throw this.inFlight(1000);
    const batch: Claimed[] = [];
    let ownAt = now;
    for (let i = 1; i < res.length; i += 3) {
      if (res[i] === jobId) ownAt = Number(res[i + 1]);
      else batch.push({ id: res[i], queuedAt: Number(res[i + 1]), parcel: JSON.parse(res[i + 2]) as Parcel });
    }
    const all = [...batch, { id: jobId, queuedAt: ownAt, parcel: own }].sort((a, b) => a.queuedAt - b.queuedAt);
    try {
      await post(all.map((c) => c.parcel));
    } catch (e) {
      await this.release(robot, batch);
      throw e;
    }
    if (batch.length) {
      const m = this.redis.multi();
      for (const c of batch) {
        m.set(this.carriedPrefix + c.id, jobId, 'EX', CARRIED_SEC);
        m.del(this.claimedPrefix + c.id);
      }
      await m.exec();
    }
  }

  /** After the platform said "too fast" anyway: nobody sends through this robot until its window has passed. */
  async block(robot: string): Promise<number> {
    await this.limiter.block(this.key(robot), this.opts.windowMs, this.opts.perWindow, this.now());
    return this.opts.windowMs;
  }

  /** Messages a failed send was carrying go back to the park, in their places, for the next send or their own job. */
  private async release(robot: string, batch: Claimed[]): Promise<void> {
    if (!batch.length) return;
    const m = this.redis.multi();
    for (const c of batch) {
      m.zadd(this.key(robot, ':wait'), 'NX', c.queuedAt, c.id);
      m.hset(this.key(robot, ':parcels'), c.id, JSON.stringify(c.parcel));
      m.del(this.claimedPrefix + c.id);
    }
    m.pexpire(this.key(robot, ':wait'), DAY_MS);
    m.pexpire(this.key(robot, ':parcels'), DAY_MS);
    await m.exec();
  }

  private inFlight(ms: number): RetryLater {
    return new RetryLater(Math.min(ms, 2000) + 10, 'carried by another send still in flight');
  }
}
