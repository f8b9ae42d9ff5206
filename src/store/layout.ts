// Where each site's keys and each queue live in Redis. A one-school install (one config file, one Redis or a Sentinel
// group) keeps the keys it always had, `<prefix>:task:15`, so upgrading needs no migration. A district (a folder of
// site files) or any install on a Redis Cluster puts every key of a site behind the site's hash tag,
// `<prefix>:{t:<site>}:task:15`: a Cluster keeps one site's keys in one slot, so our scripts and MULTIs over a site's
// keys work there, and sites spread over the masters.
//
// What every site shares (the received-message streams, the BullMQ queues) is cut into a fixed number of shards, each
// behind its own tag; a site always uses the shard its id hashes to, so its messages stay in order in one stream and
// 500 sites need no more queues than one.
import { ConfigError } from '../errors.js';

export interface Layout {
  /** config.redis.keyPrefix */
  base: string;
  /** Keys carry hash tags (a district, or any install on a Cluster). */
  tagged: boolean;
  shards: number;
  /** The prefix every key of a site starts with. */
  site(tenant: string): string;
  /** The shard a site's shared traffic goes through. */
  shardOf(tenant: string): number;
  /** The prefix of a shard's received-message keys (stream, seen ids, replay marks): one slot with its stream. */
  ingress(shard: number): string;
  /** A BullMQ queue's name in a shard. */
  queue(name: string, shard: number): string;
  /** A job id, unique across the sites that share a queue. */
  jobId(tenant: string, id: string): string;
}

export interface LayoutOptions {
  base: string;
  tagged: boolean;
  shards?: number;
}

export function layout(o: LayoutOptions): Layout {
  const shards = o.shards ?? 1;
  if (!Number.isInteger(shards) || shards < 1 || shards > 64)
    throw new ConfigError(`HOUQIN_SHARDS must be a whole number from 1 to 64 (got ${shards})`);
  const { base, tagged } = o;
  if (!tagged && shards > 1)
    throw new ConfigError('HOUQIN_SHARDS above 1 needs hash-tagged keys (a district folder or a Redis Cluster)');
  return {
    base,
    tagged,
    shards,
    site: (t) => (tagged ? `${base}:{t:${t}}` : base),
    shardOf: (t) => (shards === 1 ? 0 : fnv1a(t) % shards),
    ingress: (s) => (tagged ? `${base}:{in:${s}}` : base),
    // BullMQ refuses ':' in a queue name; the braces make the whole queue one slot.
    queue: (name, s) => (tagged ? `{${name}-${s}}` : name),
    jobId: (t, id) => (tagged ? `${t}.${id}` : id),
  };
}

/** 32-bit FNV-1a: stable across processes and releases, which a shard choice must be. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
