// Which Redis the environment names, and the mistakes that stop the start (src/config/redis-topology.ts).
import { Redis, type RedisOptions } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { describeTopology, redisTopology, replicaWait } from '../../src/config/redis-topology.js';
import { loadSettings } from '../../src/config/load.js';
import { connect } from '../../src/store/redis.js';

describe('redisTopology', () => {
  it('is REDIS_URL alone, as before, or the default server', () => {
    expect(redisTopology({})).toEqual({ kind: 'standalone', url: 'redis://127.0.0.1:6379' });
    expect(redisTopology({ REDIS_URL: 'redis://:pw@db:6380/2' })).toEqual({
      kind: 'standalone',
      url: 'redis://:pw@db:6380/2',
    });
  });

  it('reads a Sentinel group with the password and database from REDIS_URL or REDIS_PASSWORD', () => {
    const env = { REDIS_SENTINELS: 's1:26379, s2:26380,[::1]:26381', REDIS_SENTINEL_NAME: 'houqin' };
    expect(redisTopology({ ...env, REDIS_URL: 'redis://app:s%40cret@ignored:6379/3' })).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'houqin',
      username: 'app',
      password: 's@cret',
      db: 3,
    });
    expect(redisTopology({ ...env, REDIS_PASSWORD: 'pw' })).toMatchObject({ kind: 'sentinel', password: 'pw' });
  });

  it('reads a Cluster', () => {
    expect(redisTopology({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001', REDIS_PASSWORD: 'pw' })).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      password: 'pw',
    });
  });

  it.each([
    [{ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'b:2' }, /choose Sentinel or Cluster/],
    [{ REDIS_SENTINELS: 'a:26379' }, /REDIS_SENTINEL_NAME is not/],
    [{ REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS is not/],
    [{ REDIS_PASSWORD: 'pw' }, /put the password in REDIS_URL/],
    [{ REDIS_SENTINELS: 'a', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS must be host:port/],
    [{ REDIS_SENTINELS: 'a:26379,', REDIS_SENTINEL_NAME: 'm' }, /got "" in/],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, /REDIS_CLUSTER_NODES must be host:port/],
    [{ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'my master' }, /one word/],
    [{ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'redis://a:7000/1' }, /only database 0/],
    [{ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'rediss://a:7000' }, /TLS/],
    [{ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'not a url' }, /not a URL/],
    [{ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'redis://:one@a:7000', REDIS_PASSWORD: 'two' }, /keep one/],
  ])('refuses %j', (env, message) => {
    expect(() => redisTopology(env)).toThrow(message);
  });

  it('never puts a password in a message or a description', () => {
    const env = { REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'redis://:hunter2@a:7000', REDIS_PASSWORD: 'swordfish' };
    expect(() => redisTopology(env)).toThrow(/^(?!.*(hunter2|swordfish)).*$/s);
    const sentinel = redisTopology({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm', REDIS_PASSWORD: 'hunter2' });
    expect(describeTopology(sentinel)).toBe('sentinel master "m" via a:1');
    expect(describeTopology(redisTopology({ REDIS_URL: 'redis://:hunter2@h:1' }))).toBe('redis://***@h:1');
  });

  it('runs a one-site install on a Cluster with hash-tagged keys and 6 queue shards by default', () => {
    const s = loadSettings({ REDIS_CLUSTER_NODES: 'a:7000' });
    expect(s.redis.kind).toBe('cluster');
    expect([s.layout.tagged, s.layout.shards, s.layout.site('default')]).toEqual([true, 6, 'houqin:{t:default}']);
    expect(loadSettings({ REDIS_CLUSTER_NODES: 'a:7000', HOUQIN_SHARDS: '3' }).layout.shards).toBe(3);
    expect(() => loadSettings({ HOUQIN_SHARDS: '3' })).toThrow(/hash-tagged keys/);
    expect(loadSettings({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm' }).redis.kind).toBe('sentinel');
  });
});

describe('connect on one server', () => {
  // What each place passed to `new Redis(REDIS_URL, …)` before the factory: the options must come out the same.
  const before: RedisOptions[] = [
    { maxRetriesPerRequest: null },
    { maxRetriesPerRequest: 3 },
    { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false },
    { maxRetriesPerRequest: 2, enableReadyCheck: true, lazyConnect: false },
    { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 },
  ];
  it.each(before)('opens %j exactly as new Redis(url, …) did', (opts) => {
    const url = 'redis://:pw@127.0.0.1:1/2'; // nothing listens on port 1: the clients only get built
    const old = new Redis(url, { ...opts, lazyConnect: true });
    const now = connect({ kind: 'standalone', url }, { ...opts, lazyConnect: true });
    expect(now.options).toEqual(old.options);
    expect(now.options.retryStrategy).toBe(old.options.retryStrategy);
    old.disconnect();
    now.disconnect();
  });
});

describe('replicaWait', () => {
  const sentinel = { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'houqin' };
  it('waits for one replica on Sentinel and for none on one server, 200 ms at most, unless told otherwise', () => {
    expect(replicaWait(sentinel, redisTopology(sentinel))).toEqual({ replicas: 1, timeoutMs: 200 });
    expect(replicaWait({}, redisTopology({}))).toEqual({ replicas: 0, timeoutMs: 200 });
    const env = { ...sentinel, REDIS_WAIT_REPLICAS: '2', REDIS_WAIT_MS: '50' };
    expect(replicaWait(env, redisTopology(env))).toEqual({ replicas: 2, timeoutMs: 50 });
    // A one-server Redis that has replicas of its own can ask for them too.
    expect(replicaWait({ REDIS_WAIT_REPLICAS: '1' }, redisTopology({}))).toEqual({ replicas: 1, timeoutMs: 200 });
  });

  it('refuses what is not a whole number in range, saying which setting', () => {
    for (const [name, value] of [
      ['REDIS_WAIT_REPLICAS', 'one'],
      ['REDIS_WAIT_REPLICAS', '-1'],
      ['REDIS_WAIT_REPLICAS', '17'],
      ['REDIS_WAIT_MS', '0'],
      ['REDIS_WAIT_MS', '2.5'],
      ['REDIS_WAIT_MS', '60000'],
    ])
      expect(() => replicaWait({ [name]: value }, redisTopology({}))).toThrow(name);
  });
});
