// The lease on the shared Redis: one owner at a time, renewal and release only by the owner, expiry hands it over.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lease } from '../../src/store/lease.js';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';

let redis: Redis;
const prefix = testPrefix('lease');

beforeAll(() => {
  redis = redisClient();
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('Lease', () => {
  it('one owner at a time; the others are refused until it lapses', async () => {
    const key = `${prefix}:a`;
    const a = new Lease(redis, key, 'a', 300);
    const b = new Lease(redis, key, 'b', 300);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await a.acquire()).toBe(true); // the owner asking again keeps it
    expect(await a.holder()).toBe('a');
    await new Promise((r) => setTimeout(r, 400)); // a died: no renewal
    expect(await b.acquire()).toBe(true);
    expect(await a.renew()).toBe(false); // the old owner cannot extend the new owner's lease
    expect(await a.release()).toBe(false); // nor delete it
    expect(await redis.get(key)).toBe('b');
  });

  it('renewal keeps it past its ttl; release hands it over at once', async () => {
    const key = `${prefix}:b`;
    const a = new Lease(redis, key, 'a', 250);
    const b = new Lease(redis, key, 'b', 250);
    expect(await a.acquire()).toBe(true);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      expect(await a.renew()).toBe(true);
    }
    expect(await b.acquire()).toBe(false);
    expect(await a.release()).toBe(true);
    expect(await b.acquire()).toBe(true);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(250);
  });

  it('many racing for a free lease: exactly one wins', async () => {
    const key = `${prefix}:c`;
    const wins = await Promise.all(
      Array.from({ length: 20 }, (_, i) => new Lease(redis, key, `o${i}`, 5_000).acquire()),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
  });
});
