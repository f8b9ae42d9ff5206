// A sliding-window limiter shared by every instance (Redis): "at most N sends per window for this key".
// take() either records a send and returns 0, or returns how long to wait — it never drops anything.
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

export class RateLimiter {
  constructor(private redis: Redis) {}

  /** 0 when a slot was taken now, otherwise milliseconds until one frees up. `id` must be unique per send. */
  async take(key: string, limit: number, windowMs: number, id: string, now = Date.now()): Promise<number> {
    return Number(await this.redis.eval(TAKE, 1, key, now, windowMs, limit, `${now}:${id}`));
  }

  /** Fills the window (after the platform said "too many"): nobody sends on this key until it clears. */
  async block(key: string, windowMs: number, limit: number, now = Date.now()): Promise<void> {
    const p = this.redis.pipeline();
    for (let i = 0; i < limit; i++) p.zadd(key, now, `block:${now}:${i}`);
    p.pexpire(key, windowMs);
    await p.exec();
  }
}
