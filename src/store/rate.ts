// A sliding-window limiter shared by every instance (Redis): "at most N sends per window for this key".
// take() either records a send and returns 0, or returns how long to wait — it never drops anything.
// reserve() books the next free slot instead, now or later: a message that must wait is scheduled once for the moment
// it may go, and finds its slot kept when it wakes. (With take(), every waiting message woke when one slot opened,
// one went and the rest were delayed again: a backlog of N cost N wake-ups a window.)
import type { Redis } from 'ioredis';

const TAKE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + window - now + 1
`;

/**
 * KEYS[1] the window (bookings by time, some in the future); ARGV now, window, limit, member. The slot is now while
 * fewer than `limit` bookings are in the window's reach, else the booking `limit` places from the end plus the window:
 * then no span of that length holds more than `limit` bookings. A member that
 * has booked already gets its own slot back (a job waking for it).
 */
const RESERVE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local mine = redis.call('ZSCORE', KEYS[1], ARGV[4])
if mine then
  local wait = tonumber(mine) - now
  if wait > 0 then return wait end
  return 0
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local at = now
if n >= limit then
  local back = tonumber(redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')[2]) + window + 1
  if back > at then at = back end
end
redis.call('ZADD', KEYS[1], at, ARGV[4])
redis.call('PEXPIRE', KEYS[1], at - now + window)
return at - now
`;

export class RateLimiter {
  constructor(private redis: Redis) {}

  /** 0 when a slot was taken now, otherwise milliseconds until one frees up. `id` must be unique per send. */
  async take(key: string, limit: number, windowMs: number, id: string, now = Date.now()): Promise<number> {
    return Number(await this.redis.eval(TAKE, 1, key, now, windowMs, limit, `${now}:${id}`));
  }

  /**
   * Books a slot for `id` (unique per send: a retried send books again): 0 to go now, otherwise milliseconds until
   * its slot, which stays booked for it (call again with the same id when the time comes).
   */
  async reserve(key: string, limit: number, windowMs: number, id: string, now = Date.now()): Promise<number> {
    return Number(await this.redis.eval(RESERVE, 1, key, now, windowMs, limit, id));
  }

  /** Gives a booking back (the platform refused the send it was for). */
  async release(key: string, id: string): Promise<void> {
    await this.redis.zrem(key, id);
  }

  /** Fills the window (after the platform said "too many"): nobody sends on this key until it clears. */
  async block(key: string, windowMs: number, limit: number, now = Date.now()): Promise<void> {
    const p = this.redis.pipeline();
    for (let i = 0; i < limit; i++) p.zadd(key, now, `block:${now}:${i}`);
    p.pexpire(key, windowMs);
    await p.exec();
  }
}
