// Which Redis the service talks to, from the environment: one server (REDIS_URL, as always), a Sentinel group
// (REDIS_SENTINELS + REDIS_SENTINEL_NAME) or a Cluster (REDIS_CLUSTER_NODES). A one-school install sets nothing
// new and gets exactly what REDIS_URL gave it before. Mistakes stop the start with a sentence, never a guess.
import { ConfigError } from '../errors.js';
import type { Env } from './load.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface StandaloneRedis {
  kind: 'standalone';
  url: string;
}

export interface SentinelRedis {
  kind: 'sentinel';
  sentinels: HostPort[];
  /** The master's name in the sentinels' configuration (`sentinel monitor <name> …`). */
  name: string;
  username?: string;
  password?: string;
  db?: number;
}

export interface ClusterRedis {
  kind: 'cluster';
  nodes: HostPort[];
  username?: string;
  password?: string;
}

export type RedisTopology = StandaloneRedis | SentinelRedis | ClusterRedis;

const DEFAULT_URL = 'redis://127.0.0.1:6379';

export function redisTopology(env: Env): RedisTopology {
  const given = (n: string) => env[n] !== undefined && env[n]!.trim() !== '';
  const sentinels = given('REDIS_SENTINELS');
  const cluster = given('REDIS_CLUSTER_NODES');
  if (sentinels && cluster)
    throw new ConfigError('REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set: choose Sentinel or Cluster, not both');
  if (!sentinels && given('REDIS_SENTINEL_NAME'))
    throw new ConfigError('REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not: list the sentinels as host:port,…');
  if (!sentinels && !cluster) {
    if (given('REDIS_PASSWORD'))
      throw new ConfigError(
        'REDIS_PASSWORD is read only with REDIS_SENTINELS or REDIS_CLUSTER_NODES; for one Redis put the password in REDIS_URL (redis://:password@host:6379)',
      );
    return { kind: 'standalone', url: env.REDIS_URL || DEFAULT_URL };
  }
  const auth = credentials(env);
  if (sentinels) {
    const name = (env.REDIS_SENTINEL_NAME ?? '').trim();
    if (!name)
      throw new ConfigError(
        'REDIS_SENTINELS is set but REDIS_SENTINEL_NAME is not: name the master the sentinels watch',
      );
    if (/\s/.test(name)) throw new ConfigError(`REDIS_SENTINEL_NAME must be one word (got "${name}")`);
    return { kind: 'sentinel', sentinels: hostPorts(env.REDIS_SENTINELS!, 'REDIS_SENTINELS'), name, ...auth };
  }
  if (auth.db) throw new ConfigError(`REDIS_URL names database ${auth.db}, but a Redis Cluster has only database 0`);
  const { db: _, ...clusterAuth } = auth;
  return { kind: 'cluster', nodes: hostPorts(env.REDIS_CLUSTER_NODES!, 'REDIS_CLUSTER_NODES'), ...clusterAuth };
}

/**
 * How many replicas must hold a message before its platform is told it arrived (WAIT, after the hand-off's script):
 * on a replicated Redis a master that dies right after our 200 then loses nothing, because the sentinels promote the
 * replica that has it. `REDIS_WAIT_REPLICAS` (default 1 on Sentinel, 0 on one server, where there is no replica to
 * wait for) and `REDIS_WAIT_MS` (default 200: the longest a callback's answer waits for them).
 */
export interface ReplicaWait {
  replicas: number;
  timeoutMs: number;
}

export function replicaWait(env: Env, t: RedisTopology): ReplicaWait {
  const count = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max)
      throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return n;
  };
  return {
    replicas: count('REDIS_WAIT_REPLICAS', t.kind === 'standalone' ? 0 : 1, 0, 16),
    timeoutMs: count('REDIS_WAIT_MS', 200, 1, 5000),
  };
}

/** Where Redis is, for logs and the start banner: never a password. */
export function describeTopology(t: RedisTopology): string {
  const list = (l: HostPort[]) => l.map(hostPort).join(',');
  if (t.kind === 'standalone') return t.url.replace(/\/\/[^@/]*@/, '//***@');
  if (t.kind === 'sentinel') return `sentinel master "${t.name}" via ${list(t.sentinels)}`;
  return `cluster ${list(t.nodes)}`;
}

function hostPort(h: HostPort): string {
  return h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}

/** `host:port,host:port`; IPv6 hosts in brackets (`[::1]:26379`). */
export function hostPorts(value: string, from: string): HostPort[] {
  return value.split(',').map((raw) => {
    const item = raw.trim();
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(item);
    const port = m ? Number(m[3]) : 0;
    if (!m || port < 1 || port > 65535)
      throw new ConfigError(`${from} must be host:port,host:port,… (got "${item}" in "${value.trim()}")`);
    return { host: m[1] ?? m[2], port };
  });
}

/** User, password and database from REDIS_URL (its host and port are not used here), or REDIS_PASSWORD. */
function credentials(env: Env): { username?: string; password?: string; db?: number } {
  const out: { username?: string; password?: string; db?: number } = {};
  if (env.REDIS_URL) {
    let u: URL;
    try {
      u = new URL(env.REDIS_URL);
    } catch {
      throw new ConfigError('REDIS_URL is not a URL like redis://:password@host:6379/0');
    }
    if (u.protocol === 'rediss:')
      throw new ConfigError(
        'REDIS_URL asks for TLS (rediss://), which Houqin does not set up for Sentinel or Cluster yet',
      );
    if (u.protocol !== 'redis:') throw new ConfigError(`REDIS_URL must start with redis:// (got "${u.protocol}//")`);
    if (u.username) out.username = decodeURIComponent(u.username);
    if (u.password) out.password = decodeURIComponent(u.password);
    const db = u.pathname.replace(/^\//, '');
    if (db) {
      if (!/^\d+$/.test(db)) throw new ConfigError(`REDIS_URL's database must be a number (got "${db}")`);
      if (Number(db) > 0) out.db = Number(db);
    }
  }
  const pw = env.REDIS_PASSWORD;
  if (pw) {
    // Both given and different: which one is right cannot be guessed. (Neither value goes into the message.)
    if (out.password !== undefined && out.password !== pw)
      throw new ConfigError('REDIS_URL carries a password and REDIS_PASSWORD another one: keep one of them');
    out.password = pw;
  }
  return out;
}
