// A lease in Redis: at most one owner at a time holds a key for ttl milliseconds and renews it while alive. When the
// owner dies (SIGKILL, a lost machine) it stops renewing and the key expires, so another can take it within ttl.
// Renewal and release compare the owner first, in one script, so a process that lost the lease (it was paused
// longer than ttl and someone else took over) can neither extend nor delete the new owner's lease.
import type { Redis } from 'ioredis';

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export class Lease {
  constructor(
    private redis: Redis,
    readonly key: string,
    /** Unique per process (and per start): two processes must never share it. */
    readonly owner: string,
    readonly ttlMs: number,
  ) {}

  /** Takes the lease if nobody holds it; true when this owner now holds it (or already did). */
  async acquire(): Promise<boolean> {
    if ((await this.redis.set(this.key, this.owner, 'PX', this.ttlMs, 'NX')) === 'OK') return true;
    return this.renew();
  }

  /** Extends the lease by ttl; false when this owner no longer holds it. */
  async renew(): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, this.key, this.owner, this.ttlMs)) === 1;
  }

  /** Gives the lease up at once (a graceful stop), so another can take it without waiting for ttl. */
  async release(): Promise<boolean> {
    return Number(await this.redis.eval(RELEASE, 1, this.key, this.owner)) === 1;
  }

  /** Who holds it now, if anyone. */
  holder(): Promise<string | null> {
    return this.redis.get(this.key);
  }
}
