// Settings come from one function of (environment, config file path), so tests pass their own and never
// touch process.env (probot's createProbot({ env }) habit).
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { ConfigError } from '../errors.js';
import {
  checkFromEnv,
  dingtalkBlock,
  dingtalkEnvNames,
  dingtalkModeRule,
  dingtalkModes,
  wecomBlock,
  wecomEnvNames,
} from './credentials.js';
import { pathText, resolveEnvRefs } from './env-refs.js';
import { readOverlay, vocabularyPath, withOverlay } from './vocabulary.js';
import { folderSites, type Hosts, type SiteSettings } from './sites.js';
import type { District } from './district.js';
import { SINGLE_TENANT } from './tenants.js';
import { type Layout, layout } from '../store/layout.js';
import { type RedisTopology, type ReplicaWait, redisTopology, replicaWait } from './redis-topology.js';

export type Env = Record<string, string | undefined>;

export interface WecomSettings {
  apiBase: string;
  corpId?: string;
  /** The AI bot in URL-callback mode (WECOM_AIBOT_MODE=callback, the default). */
  aibot?: { token: string; aesKey: string };
  /** The AI bot in long-connection mode (WECOM_AIBOT_MODE=longconn): Houqin dials out; no public URL needed. */
  longconn?: { botId: string; secret: string; wsUrl: string };
  app?: { token: string; aesKey: string; secret: string; agentId: number };
}

/** The DingTalk enterprise robot (src/channels/dingtalk/): on only with its app's credentials. */
export interface DingtalkSettings {
  /** The robot API host, https://api.dingtalk.com (tests point it at a local fake). */
  apiBase: string;
  /** The old API host, https://oapi.dingtalk.com: media/upload for pictures (tests point it at a local fake). */
  oapiBase: string;
  /** The app's AppKey / AppSecret (now called Client ID / Client Secret in the developer console). */
  appKey: string;
  appSecret: string;
  /** The robot's RobotCode; the same as the AppKey for a robot inside an enterprise internal app. */
  robotCode: string;
  /**
   * How messages arrive: `http` (DingTalk posts to /dingtalk/robot, which needs a public HTTPS address) or `stream`
   * (Houqin dials out to DingTalk's Stream gateway over a WebSocket; no public address needed).
   */
  mode: 'http' | 'stream';
  /** Cards with buttons (卡片平台 template, src/channels/dingtalk/cards.ts); without it cards go as markdown. */
  cards?: DingtalkCardSettings;
}

/**
 * The card template an admin imported from config/dingtalk-card-template.json. Clicks come the way messages do: over
 * the Stream connection in stream mode; in http mode to `callbackUrl`, which Houqin registers under `routeKey` with
 * `apiSecret` at start, and which DingTalk signs with that secret.
 */
export interface DingtalkCardSettings {
  templateId: string;
  routeKey: string;
  /** http mode only: the public address of /dingtalk/card. */
  callbackUrl?: string;
  /** http mode only: the secret DingTalk signs card callbacks with (x-ddpaas-signature). */
  apiSecret?: string;
}

export interface Settings {
  port: number;
  host: string;
  /** REDIS_URL, or a Sentinel group (config/redis-topology.ts); a Cluster is refused until issue 15. */
  redis: RedisTopology;
  /** How many replicas hold a message before its callback is answered (config/redis-topology.ts). */
  replicaWait: ReplicaWait;
  configPath: string;
  config: Config;
  wecom: WecomSettings;
  dingtalk?: DingtalkSettings;
  /** Messages per window through one DingTalk custom robot (DINGTALK_ROBOT_PACE). */
  robotPace: { perWindow: number; windowMs: number };
  /** Max age of a signed callback before it is refused as stale. */
  maxSkewMs: number;
  bodyLimitBytes: number;
  /** Photos people send: the folder every instance reads and writes (a shared volume), and the largest photo kept. */
  media: { dir: string; maxBytes: number };
  /** How people reach this service (links to photos in the ledger); default http://127.0.0.1:<PORT>. */
  publicUrl: string;
  adminToken?: string;
  consoleToken?: string;
  /** NODE_ENV=production or a host reachable from other machines: the console then needs a token. */
  exposed: boolean;
  logLevel: string;
  /** What this process runs: everything, only the HTTP side, or only the queue workers and the scheduler. */
  role: Role;
  /** The learned-words overlay (config/vocabulary.ts). */
  vocabularyPath: string;
  /**
   * The sites served: a one-site install's one (`default`, from the fields above), or a district folder's. In a folder
   * the one-site fields above (config, wecom, dingtalk, tokens) are the first site's config and no credentials.
   */
  sites: SiteSettings[];
  district?: District;
  /** Where keys and queues live (store/layout.ts). */
  layout: Layout;
}

export const roles = ['all', 'receiver', 'workers'] as const;
export type Role = (typeof roles)[number];

export function parseRole(value: string | undefined, from: string): Role {
  const v = value || 'all';
  if (!(roles as readonly string[]).includes(v))
    throw new ConfigError(`${from} must be one of ${roles.join(', ')} (got "${v}")`);
  return v as Role;
}

export const DEFAULT_CONFIG = 'config/example.yaml';

export function formatZodError(err: z.ZodError, file: string): string {
  return formatIssues(err.issues, file);
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], file: string): string {
  const lines = issues.map((i) => `  ${pathText(i.path)}: ${i.message}`);
  return `invalid configuration in ${file}:\n${lines.join('\n')}`;
}

/** The YAML of a config file, or a ConfigError naming the file. */
export function readYaml(text: string, file: string): unknown {
  try {
    return parseYaml(text);
  } catch (e) {
    throw new ConfigError(`cannot read YAML in ${file}: ${(e as Error).message}`);
  }
}

/**
 * One config file's text → its config. An unset `${NAME}` leaves its feature off and is listed in missingEnv (the
 * log names it once); in a district folder it stops the start instead (site-file.ts).
 */
export function parseConfig(text: string, env: Env, file = '<inline>'): { config: Config; missingEnv: string[] } {
  const { value, unset } = resolveEnvRefs(readYaml(text, file), env);
  const result = configSchema.safeParse(value);
  if (!result.success) throw new ConfigError(formatZodError(result.error, file));
  return { config: result.data, missingEnv: [...new Set(unset.map((u) => u.name))] };
}

/** What this deployment lays over a one-site config: the learned-words overlay and HOUQIN_KEY_PREFIX. */
export function withLocalOverrides(parsed: Config, env: Env): Config {
  const config = withOverlay(parsed, readOverlay(vocabularyPath(env)));
  // Tests and side-by-side deployments on one Redis keep apart by prefix.
  if (env.HOUQIN_KEY_PREFIX) config.redis.keyPrefix = env.HOUQIN_KEY_PREFIX;
  return config;
}

function int(env: Env, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`environment variable ${name} must be a whole number, got "${v}"`);
  return n;
}

function positive(env: Env, name: string, fallback: number): number {
  const n = int(env, name, fallback);
  if (n === 0) throw new ConfigError(`environment variable ${name} must be more than 0`);
  return n;
}

export function loadSettings(
  env: Env,
  configPath = env.HOUQIN_CONFIG || DEFAULT_CONFIG,
): Settings & { missingEnv: string[] } {
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') return districtSettings(env, configPath);
    throw new ConfigError(
      `cannot read config file ${configPath}: ${(e as Error).message} (set HOUQIN_CONFIG to its path)`,
    );
  }
  const parsed = parseConfig(text, env, configPath);
  const { missingEnv } = parsed;
  const overlayPath = vocabularyPath(env);
  const config = withLocalOverrides(parsed.config, env);
  const wecom: WecomSettings = { apiBase: hostsOf(env).wecomApi, ...wecomFromEnv(env) };
  const dingtalk = dingtalkSettings(env);
  const common = commonSettings(env, configPath);
  const site: SiteSettings = {
    id: SINGLE_TENANT,
    config,
    wecom,
    dingtalk,
    consoleToken: common.consoleToken,
    adminToken: common.adminToken,
    vocabularyPath: overlayPath,
    named: false,
  };
  return {
    ...common,
    config,
    wecom,
    dingtalk,
    vocabularyPath: overlayPath,
    missingEnv,
    sites: [site],
    layout: layoutOf(env, config.redis.keyPrefix, false),
  };
}

/** A district folder: every site file in it (config/sites.ts). */
function districtSettings(env: Env, dir: string): Settings & { missingEnv: string[] } {
  const { sites, district } = folderSites(env, dir, hostsOf(env));
  const first = sites[0];
  return {
    ...commonSettings(env, dir),
    config: first.config,
    wecom: { apiBase: hostsOf(env).wecomApi },
    vocabularyPath: first.vocabularyPath,
    missingEnv: [],
    sites,
    district,
    layout: layoutOf(env, first.config.redis.keyPrefix, true),
    // A district's site data opens with each site's own tokens (its file's access: block), never one for all.
    // HOUQIN_ADMIN_TOKEN opens the deployment's /admin/metrics only: figures, no site's data (app.ts).
    consoleToken: undefined,
  };
}

function hostsOf(env: Env): Hosts {
  const bare = (s: string) => s.replace(/\/+$/, '');
  return {
    wecomApi: bare(env.WECOM_API_BASE || 'https://qyapi.weixin.qq.com'),
    dingtalkApi: bare(env.DINGTALK_API_BASE || 'https://api.dingtalk.com'),
    dingtalkOapi: bare(env.DINGTALK_OAPI_BASE || 'https://oapi.dingtalk.com'),
  };
}

/**
 * A district or a Cluster puts keys behind hash tags. On a Cluster the shared queues are cut in 6 shards by default
 * (two per master of the smallest Cluster, 3 masters), elsewhere one: a single master gains nothing from more.
 * HOUQIN_SHARDS is set once: a queue of a shard dropped later keeps its jobs unread (docs/operations.md).
 */
function layoutOf(env: Env, base: string, district: boolean): Layout {
  const cluster = redisTopology(env).kind === 'cluster';
  const shards = env.HOUQIN_SHARDS?.trim() ? Number(env.HOUQIN_SHARDS) : cluster ? 6 : 1;
  return layout({ base, tagged: district || cluster, shards });
}

/** What every deployment reads from the environment, whatever it serves. */
function commonSettings(env: Env, configPath: string) {
  const host = env.HOST || '127.0.0.1';
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(host);
  return {
    port: int(env, 'PORT', 3000),
    host,
    redis: redisTopology(env),
    replicaWait: replicaWait(env, redisTopology(env)),
    configPath,
    maxSkewMs: int(env, 'HOUQIN_MAX_SKEW_SECONDS', 300) * 1000,
    bodyLimitBytes: int(env, 'HOUQIN_BODY_LIMIT', 64 * 1024),
    media: {
      dir: env.HOUQIN_MEDIA_DIR || './data/media',
      maxBytes: positive(env, 'HOUQIN_MEDIA_MAX_BYTES', 10 * 1024 * 1024),
    },
    publicUrl: (env.HOUQIN_PUBLIC_URL || `http://127.0.0.1:${int(env, 'PORT', 3000)}`).replace(/\/+$/, ''),
    adminToken: env.HOUQIN_ADMIN_TOKEN || undefined,
    consoleToken: env.HOUQIN_CONSOLE_TOKEN || undefined,
    exposed: env.NODE_ENV === 'production' || !loopback,
    logLevel: env.LOG_LEVEL || 'info',
    role: parseRole(env.HOUQIN_ROLE, 'HOUQIN_ROLE'),
    robotPace: robotPace(env.DINGTALK_ROBOT_PACE),
  };
}

/**
 * The WECOM_* variables, a one-site install's shorthand for a site file's `wecom:` block: laid out as that block and
 * checked by its schema (credentials.ts). The AI bot's long connection exists only here, for now.
 */
export function wecomFromEnv(env: Env): Omit<WecomSettings, 'apiBase'> {
  const set = (n: string) => env[n] !== undefined && env[n] !== '';
  const aibotMode = env.WECOM_AIBOT_MODE || 'callback';
  if (aibotMode !== 'callback' && aibotMode !== 'longconn')
    throw new ConfigError(`WECOM_AIBOT_MODE must be callback or longconn (got "${aibotMode}")`);
  const block = {
    corpId: env.WECOM_CORP_ID || undefined,
    aibot:
      aibotMode === 'callback' && set('WECOM_AIBOT_TOKEN') && set('WECOM_AIBOT_AES_KEY')
        ? { token: env.WECOM_AIBOT_TOKEN, aesKey: env.WECOM_AIBOT_AES_KEY }
        : undefined,
    app:
      set('WECOM_APP_TOKEN') && set('WECOM_APP_AES_KEY')
        ? {
            token: env.WECOM_APP_TOKEN,
            aesKey: env.WECOM_APP_AES_KEY,
            secret: env.WECOM_APP_SECRET ?? '',
            agentId: env.WECOM_APP_AGENT_ID || undefined,
          }
        : undefined,
  };
  const wecom: Omit<WecomSettings, 'apiBase'> = checkFromEnv(wecomBlock, block, wecomEnvNames);
  if (aibotMode === 'longconn') wecom.longconn = longconnSettings(env);
  return wecom;
}

/**
 * DINGTALK_ROBOT_PACE, "18/62s" by default: at most this many messages per window through one custom robot. DingTalk
 * refuses the 21st in a minute and blocks the robot for ten; a group whose robot other systems also post through
 * needs a lower pace ("10/60s").
 */
function robotPace(v: string | undefined): { perWindow: number; windowMs: number } {
  if (!v) return { perWindow: 18, windowMs: 62_000 };
  const m = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$/.exec(v);
  const perWindow = m ? Number(m[1]) : 0;
  const windowMs = m ? Number(m[2]) * (m[3] === 's' ? 1000 : 1) : 0;
  if (!m || perWindow < 1 || perWindow > 20 || windowMs < 100)
    throw new ConfigError(`DINGTALK_ROBOT_PACE must be like "18/62s": 1 to 20 messages per window (got "${v}")`);
  return { perWindow, windowMs };
}

/**
 * The AI bot's long connection: its BotID and Secret (admin console → 智能机器人 → the bot → API mode, long
 * connection), and the gateway, wss://openws.work.weixin.qq.com unless a private deployment names another.
 */
function longconnSettings(env: Env): { botId: string; secret: string; wsUrl: string } {
  const missing = ['WECOM_AIBOT_ID', 'WECOM_AIBOT_SECRET'].filter((n) => !env[n]);
  if (missing.length)
    throw new ConfigError(`WECOM_AIBOT_MODE=longconn needs ${missing.join(' and ')} (docs/setup-wecom.md)`);
  const wsUrl = (env.WECOM_AIBOT_WS_URL || 'wss://openws.work.weixin.qq.com').trim();
  if (!/^wss?:\/\/[^\s]+$/.test(wsUrl))
    throw new ConfigError(`WECOM_AIBOT_WS_URL must be a wss:// address (got "${wsUrl}")`);
  return { botId: env.WECOM_AIBOT_ID!.trim(), secret: env.WECOM_AIBOT_SECRET!, wsUrl };
}

const dingtalkNeeds = ['DINGTALK_APP_KEY', 'DINGTALK_APP_SECRET'] as const;

/** DingTalk is on when its app key and secret are set; half a set is a mistake worth stopping for. */
export function dingtalkSettings(env: Env): DingtalkSettings | undefined {
  const set = (n: string) => env[n] !== undefined && env[n] !== '';
  const mode = env.DINGTALK_MODE || 'http';
  if (!(dingtalkModes as readonly string[]).includes(mode))
    throw new ConfigError(`DINGTALK_MODE ${dingtalkModeRule} (got "${mode}")`);
  const given = dingtalkNeeds.filter(set);
  if (!given.length) {
    if (set('DINGTALK_ROBOT_CODE'))
      throw new ConfigError('DINGTALK_ROBOT_CODE is set but DINGTALK_APP_KEY and DINGTALK_APP_SECRET are not');
    return undefined;
  }
  const missing = dingtalkNeeds.filter((n) => !set(n));
  if (missing.length)
    throw new ConfigError(`${given.join(' and ')} set but ${missing.join(' and ')} not: DingTalk needs both`);
  const block = {
    appKey: env.DINGTALK_APP_KEY,
    appSecret: env.DINGTALK_APP_SECRET,
    robotCode: env.DINGTALK_ROBOT_CODE || undefined,
    mode,
  };
  const app = checkFromEnv(dingtalkBlock, block, dingtalkEnvNames);
  return {
    apiBase: (env.DINGTALK_API_BASE || 'https://api.dingtalk.com').replace(/\/+$/, ''),
    oapiBase: (env.DINGTALK_OAPI_BASE || 'https://oapi.dingtalk.com').replace(/\/+$/, ''),
    ...app,
    cards: cardSettings(env, app.mode, app.appSecret),
  };
}

/**
 * DINGTALK_CARD_TEMPLATE_ID turns buttons on. In http mode a click needs somewhere to go: the public address of
 * /dingtalk/card, which Houqin registers with DingTalk itself (DINGTALK_CARD_CALLBACK_URL). A template without it
 * would show buttons that do nothing, so that stops the start. The callback secret defaults to one derived from the
 * app secret, so nobody has to invent one; an admin who registers the address by hand sets it explicitly.
 */
function cardSettings(env: Env, mode: 'http' | 'stream', appSecret: string): DingtalkCardSettings | undefined {
  const templateId = env.DINGTALK_CARD_TEMPLATE_ID?.trim();
  if (!templateId) return undefined;
  const routeKey = env.DINGTALK_CARD_ROUTE_KEY?.trim() || 'houqin';
  if (!/^[\w.-]{1,64}$/.test(routeKey))
    throw new ConfigError('DINGTALK_CARD_ROUTE_KEY may hold letters, digits, "_", "." and "-" (at most 64)');
  if (mode === 'stream') return { templateId, routeKey };
  const callbackUrl = env.DINGTALK_CARD_CALLBACK_URL?.trim();
  if (!callbackUrl)
    throw new ConfigError(
      'DINGTALK_CARD_TEMPLATE_ID in http mode needs DINGTALK_CARD_CALLBACK_URL (the public https address of /dingtalk/card), or DINGTALK_MODE=stream',
    );
  if (!/^https?:\/\/[^\s]+$/.test(callbackUrl))
    throw new ConfigError(`DINGTALK_CARD_CALLBACK_URL must be an http(s) address (got "${callbackUrl}")`);
  const apiSecret =
    env.DINGTALK_CARD_CALLBACK_SECRET || createHmac('sha256', appSecret).update('houqin card callback').digest('hex');
  return { templateId, routeKey, callbackUrl, apiSecret };
}
