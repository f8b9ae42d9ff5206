// docker-compose.district.yml cannot be started here (no Compose on the test machines): check what it promises.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const file = parse(readFileSync('docker-compose.district.yml', 'utf8'), { merge: true }) as {
  services: Record<string, { command?: string[]; environment?: Record<string, string>; volumes?: string[] }>;
  configs: { nginx: { content: string } };
};
const services = file.services;
const houqins = Object.keys(services).filter((n) => n.startsWith('houqin-'));

describe('docker-compose.district.yml', () => {
  it('runs three instances on the district folder, over the three sentinels, sharing photos', () => {
    expect(houqins).toHaveLength(3);
    for (const n of houqins) {
      const env = services[n].environment!;
      expect(env.HOUQIN_CONFIG).toBe('/etc/houqin/district');
      expect(env.REDIS_SENTINELS.split(',')).toEqual(['sentinel-1:26379', 'sentinel-2:26379', 'sentinel-3:26379']);
      expect(env.REDIS_SENTINEL_NAME).toBe('houqin');
      expect(services[n].volumes).toContain('media:/app/data/media');
    }
  });

  it('keeps every Redis with AOF and noeviction, two of them replicas of the master', () => {
    const redis = Object.keys(services).filter((n) => n.startsWith('redis-'));
    expect(redis).toHaveLength(3);
    for (const n of redis) {
      const cmd = services[n].command!.join(' ');
      expect(cmd).toContain('--appendonly yes');
      expect(cmd).toContain('--maxmemory-policy noeviction');
    }
    expect(redis.filter((n) => services[n].command!.join(' ').includes('--replicaof redis-master 6379'))).toHaveLength(
      2,
    );
  });

  it('puts every instance behind the proxy, which retries a callback on the next one', () => {
    const conf = file.configs.nginx.content;
    for (const n of houqins) expect(conf).toContain(`server ${n}:3000`);
    expect(conf).toContain('non_idempotent');
  });
});
