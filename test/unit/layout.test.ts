// Where a site's keys and the shared queues live: a one-site install keeps its keys; a district or a Cluster tags them.
import { describe, expect, it } from 'vitest';
import { fnv1a, layout } from '../../src/store/layout.js';

describe('layout', () => {
  it("keeps a one-site install's keys, queue names and job ids as they always were", () => {
    const l = layout({ base: 'houqin', tagged: false });
    expect([l.site('default'), l.ingress(0), l.queue('outbox', 0), l.jobId('default', 'm1')]).toEqual([
      'houqin',
      'houqin',
      'outbox',
      'm1',
    ]);
  });

  it("puts a district's site behind its hash tag, and shares in shards behind theirs", () => {
    const l = layout({ base: 'houqin', tagged: true, shards: 4 });
    expect(l.site('north')).toBe('houqin:{t:north}');
    expect(l.ingress(3)).toBe('houqin:{in:3}');
    expect(l.queue('outbox', 2)).toBe('{outbox-2}');
    expect(l.jobId('north', 't15.route')).toBe('north.t15.route');
  });

  it('picks the same shard for a site in every process and release, spread over the shards', () => {
    const l = layout({ base: 'h', tagged: true, shards: 6 });
    expect(fnv1a('north')).toBe(fnv1a('north'));
    expect(fnv1a('a')).toBe(0xe40c292c); // 32-bit FNV-1a of "a": fixed forever, or sites change shards
    const used = new Set(Array.from({ length: 200 }, (_, i) => l.shardOf(`school-${i}`)));
    expect(used.size).toBe(6);
  });

  it('refuses shards it cannot keep apart', () => {
    expect(() => layout({ base: 'h', tagged: false, shards: 2 })).toThrow(/hash-tagged/);
    expect(() => layout({ base: 'h', tagged: true, shards: 0 })).toThrow(/1 to 64/);
  });
});
