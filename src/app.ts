// The composition root: the deployment's connections, shared queues and HTTP server, and one Site (site.ts) per
// site it serves — one for a school's install, many for a district. Tests start the same thing.
import { createServer, type Server } from 'node:http';
import Router from '@koa/router';
import type { Redis } from 'ioredis';
import type { KeeperStatus } from './channels/wecom/longconn/keeper.js';
import type { StreamStatus } from './channels/dingtalk/stream.js';
import { VocabularyNews } from './config/vocabulary-news.js';
import type { Settings } from './config/load.js';
import type { Roster } from './domain/roster.js';
import type { TaskService } from './domain/tasks/service.js';
import { createHttpApp } from './http/app.js';
import { CallbackTable } from './http/callbacks.js';
import { mountMetrics } from './http/admin.js';
import { Metrics } from './http/metrics.js';
import type { Logger } from './log.js';
import type { Queues } from './queues/runtime.js';
import { SharedQueues } from './queues/shared.js';
import type { SchoolCalendar } from './scheduler/calendar.js';
import type { Scheduler } from './scheduler/scheduler.js';
import { checkPersistence, connect } from './store/redis.js';
import type { TaskStore } from './store/tasks.js';
import { MediaStore } from './store/media.js';
import { createSite, type Site } from './site.js';
import { districtJob } from '../jobs/district.js';
import { districtRecipients } from './domain/district/service.js';
import type { Tenants } from './config/tenants.js';

export interface Houqin {
  settings: Settings;
  redis: Redis;
  /** Every site served; the fields below are the first one's (the only one in a one-site install). */
  sites: Site[];
  shared: SharedQueues;
  queues: Queues;
  scheduler: Scheduler;
  calendar: SchoolCalendar;
  tasks: TaskStore;
  roster: Roster;
  service: TaskService;
  /** Reads the config again and serves the sites new in it (SIGHUP); returns their ids. */
  reload(): Promise<string[]>;
  start(): Promise<Started>;
  stop(): Promise<void>;
}

/** What is on, for the start-up banner and the one "ready" log line. */
export interface Started {
  port: number;
  console: boolean;
  consoleUrl?: string;
  role: Settings['role'];
  channels: ChannelState[];
  redis: { appendonly: string; policy: string };
  /** The fields of the "houqin listening" log line. */
  ready?: Record<string, unknown>;
}

export interface ChannelState {
  name: string;
  on: boolean;
  /** Where it listens when on; what to set when off. */
  detail: string;
}

/** How this process runs when `houqin serve` supervises a receiver and a workers process (cli/supervise.ts). */
export interface HouqinOptions {
  /** A child of the supervisor: it says when it is ready instead of logging the "listening" line itself. */
  supervised?: boolean;
  /** The receiver's view of the workers process, from the supervisor (for /readyz). */
  workersUp?: () => boolean;
  /** Reads the settings again, for a reload (SIGHUP). */
  reloadSettings?: () => Settings;
}

export function createHouqin(settings: Settings, log: Logger, opts: HouqinOptions = {}): Houqin {
  const redis = connect(settings.redis);
  // The request path and the queues share one plain connection. Auto-pipelining was measured slower here: ioredis
  // copies BullMQ's 64 scripts into every batch (~49 µs) and keeps one batch in flight (bench/README.md).
  const fast = connect(settings.redis);
  const shared = new SharedQueues(fast, settings.layout, log, {
    replicas: settings.replicaWait.replicas,
    waitMs: settings.replicaWait.timeoutMs,
  });
  // Photos: bytes in the media folder (shared by every site: a photo is named by its hash), hashes in Redis.
  const media = new MediaStore(settings.media.dir, settings.media.maxBytes);
  // Every process on this Redis hears when a site's learned words change, over one subscription for all sites.
  const vocabulary = new VocabularyNews(settings.redis, `${settings.layout.base}:vocabulary`, log);
  const via = deliverer(settings);
  const sites = settings.sites.map((s) =>
    createSite(
      s,
      { settings, redis, queues: shared, media, log, tellVocabulary: (id) => vocabulary.tell(id) },
      s.id === via ? [districtJob(tenantsOf(settings))] : [],
    ),
  );
  const byId = new Map(sites.map((s) => [s.id, s]));
  // The bureau's people can be sent to through the site that delivers the district's summary.
  if (settings.district) sites.find((s) => s.id === via)?.roster.addRecipients(districtRecipients(settings.district));
  const first = sites[0];

  const metrics = new Metrics();
  metrics.watchOutbox(async () => {
    const all = await Promise.all(sites.map((s) => s.queues.mailbox.stats()));
    const sum = (pick: (m: (typeof all)[number]) => Record<string, number>) => {
      const out: Record<string, number> = {};
      for (const m of all) for (const [k, v] of Object.entries(pick(m))) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    return { waiting: sum((m) => m.waiting), coalesced: sum((m) => m.coalesced) };
  });
  metrics.watchTotal(
    'houqin_workers_rests_total',
    'Times the workers in a one-process deployment paused so that the callbacks were answered first.',
    () => shared.answersFirst.rests,
  );
  metrics.watchTotal(
    'houqin_handoff_unreplicated_total',
    'Hand-offs answered before REDIS_WAIT_REPLICAS replicas had them (REDIS_WAIT_MS ran out).',
    () => shared.unreplicated,
  );

  let server: Server | undefined;
  const stopping = new AbortController();
  const router = new Router();
  const callbacks = new CallbackTable();
  /** A site's callbacks, console and admin pages, in a process that takes requests. */
  const mount = (site: Site) => {
    callbacks.add(site.routes());
    const mounts = site.mounts(metrics);
    if (!mounts.length) return;
    // A district's site answers under /t/<id>, with its own tokens; a one-site install where it always did.
    const r = site.base ? new Router({ prefix: site.base }) : router;
    for (const m of mounts) m(r);
    if (r !== router) router.use(r.routes(), r.allowedMethods());
  };
  const deps = { settings, redis, queues: shared, media, log, tellVocabulary: (id: string) => vocabulary.tell(id) };

  /**
   * SIGHUP: the district folder is read again and the sites new in it are served at once, by this process, with no
   * restart. A site whose file changed or was removed keeps running as it was until the next restart (the log says
   * which): changing a site under running work — its roster, routes, credentials — is what a rolling restart is for.
   */
  async function reload(): Promise<string[]> {
    const read = opts.reloadSettings;
    if (!read) return [];
    let next: Settings;
    try {
      next = read();
    } catch (e) {
      log.error({ err: (e as Error).message }, 'config reload: the folder has errors; nothing changed');
      return [];
    }
    if (next.layout.base !== settings.layout.base || next.layout.shards !== settings.layout.shards) {
      log.error('config reload: the key prefix or HOUQIN_SHARDS changed; that needs a restart; nothing changed');
      return [];
    }
    const known = new Map(settings.sites.map((s) => [s.id, JSON.stringify(s)]));
    const changed = next.sites.filter((s) => known.has(s.id) && known.get(s.id) !== JSON.stringify(s)).map((s) => s.id);
    const removed = settings.sites.filter((s) => !next.sites.some((n) => n.id === s.id)).map((s) => s.id);
    if (changed.length || removed.length)
      log.warn({ changed, removed }, 'config reload: changed and removed sites take effect at the next restart');
    const added: string[] = [];
    for (const s of next.sites.filter((x) => !known.has(x.id))) {
      const site = createSite(s, deps);
      sites.push(site);
      byId.set(site.id, site);
      settings.sites.push(s);
      if (settings.role !== 'receiver') await site.startWorkers();
      if (settings.role !== 'workers') {
        mount(site);
        await site.startReceiving(stopping.signal, metrics);
      }
      added.push(site.id);
    }
    log.info({ added, sites: sites.length }, `config reload: ${added.length} site(s) added`);
    return added;
  }
  return {
    settings,
    redis,
    sites,
    shared,
    queues: first.queues,
    scheduler: first.scheduler,
    calendar: first.calendar,
    tasks: first.tasks,
    roster: first.roster,
    service: first.service,
    reload,
    async start() {
      const persistence = await checkPersistence(redis, log);
      const { role } = settings;
      await vocabulary.listen((id) => byId.get(id ?? first.id)?.rebuildParser());
      if (role !== 'receiver') {
        for (const site of sites) await site.startWorkers();
        await shared.start(settings.redis);
      }
      // A workers-only process answers health checks and nothing else.
      const receiving = role !== 'workers';
      if (receiving) for (const site of sites) mount(site);
      // A district: the whole deployment's figures behind HOUQIN_ADMIN_TOKEN (each site's own token opens its data).
      const districtMetrics = receiving && first.settings.named && !!settings.adminToken;
      if (districtMetrics) mountMetrics(router, settings.adminToken!, metrics);
      const app = createHttpApp({
        settings,
        redis,
        router,
        callbacks,
        // Callbacks are timed where an operator can read the figures (an admin token opens /admin/metrics).
        metrics: districtMetrics || sites.some((s) => s.settings.adminToken) ? metrics : undefined,
        workersRunning: () => shared.workersRunning(),
        workersUp: opts.workersUp,
        log,
      });
      // A supervised workers process answers nothing: the receiver beside it is the service's address.
      let port = 0;
      if (!(opts.supervised && role === 'workers')) {
        server = createServer(app).listen(settings.port, settings.host);
        await new Promise<void>((resolve, reject) => {
          server!.once('listening', resolve);
          server!.once('error', reject);
        });
        const addr = server.address();
        port = typeof addr === 'object' && addr ? addr.port : settings.port;
      }
      if (receiving) for (const site of sites) await site.startReceiving(stopping.signal, metrics);
      const shown = receiving && first.consoleOn;
      const host = settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host;
      const consoleUrl = shown ? `http://${host}:${port}${first.base}/console` : undefined;
      const states = !receiving
        ? []
        : settings.sites.length === 1 && !first.settings.named
          ? channelStates(settings, first.consoleOn, first.stream?.status(), first.longconn?.status())
          : districtStates(sites);
      const started: Started = {
        port,
        console: shown,
        consoleUrl,
        role,
        channels: states,
        redis: { appendonly: persistence.appendonly, policy: persistence.policy },
      };
      // What the one "ready" line says; a supervised process hands it to the supervisor, which logs it (supervise.ts).
      started.ready = {
        port,
        prefix: settings.layout.base,
        role,
        console: consoleUrl,
        channels: started.channels.filter((c) => c.on).map((c) => c.name),
        ...(sites.length > 1 || first.settings.named ? { sites: sites.length } : {}),
        ...(first.stream ? { dingtalkStream: first.stream.status().state } : {}),
        ...(first.longconn?.status() ? { wecomLongconn: first.longconn.status()!.state } : {}),
      };
      if (opts.supervised) {
        log.info({ port, role, pid: process.pid }, `${role} process ready`);
        return started;
      }
      // Tests and scripts wait for this exact line.
      log.info(started.ready, `houqin listening on port ${port}${role === 'all' ? '' : ` as ${role}`}`);
      if (role === 'receiver')
        log.info('receiver only: messages wait in Redis until a `houqin serve --role workers` process handles them');
      return started;
    },
    async stop() {
      // Stop taking callbacks first, then let in-flight jobs finish, then close connections.
      stopping.abort();
      await vocabulary.close();
      if (server) {
        const closed = new Promise<void>((r) => server!.close(() => r()));
        server.closeIdleConnections();
        // Console streams end when their sites stop (below); the server closes once they have.
        await Promise.all(sites.map((s) => s.stop()));
        await closed;
      } else await Promise.all(sites.map((s) => s.stop()));
      await shared.close();
      await Promise.allSettled([redis.quit(), fast.quit()]);
    },
  };
}

/**
 * The site whose channels carry the district's weekly summary: the first of the district's sites with a WeCom app or
 * a DingTalk robot (they can send to a person), else its first site (the summary then shows in that site's console).
 */
function deliverer(settings: Settings): string | undefined {
  if (!settings.district) return undefined;
  const mine = settings.district.sites.flatMap((id) => settings.sites.find((s) => s.id === id) ?? []);
  return (mine.find((s) => !!s.wecom.app || !!s.dingtalk) ?? mine[0])?.id;
}

/** The district's sites as the district code reads them (config/tenants.ts shape). */
function tenantsOf(settings: Settings): Tenants {
  const sites = new Map(
    settings.sites.map((s) => [s.id, { id: s.id, file: '', config: s.config, credentials: {}, missingEnv: [] }]),
  );
  return { district: settings.district, sites };
}

/** A district's banner: how many sites, and which of them take messages how. */
function districtStates(sites: Site[]): ChannelState[] {
  const count = (f: (s: Site) => boolean) => sites.filter(f).length;
  const w = count((s) => !!(s.settings.wecom.aibot || s.settings.wecom.app || s.settings.wecom.longconn));
  const d = count((s) => !!s.settings.dingtalk);
  const c = count((s) => s.consoleOn);
  return [
    {
      name: 'sites',
      on: true,
      detail: `${sites.length}: ${sites
        .map((s) => s.id)
        .join(', ')
        .slice(0, 200)}`,
    },
    { name: 'WeCom', on: w > 0, detail: `${w} site(s), callbacks on /wecom/<site>/aibot and /wecom/<site>/app` },
    { name: 'DingTalk', on: d > 0, detail: `${d} site(s), callbacks on /dingtalk/<site>/robot` },
    { name: 'console', on: c > 0, detail: `${c} site(s), on /t/<site>/console with each site's access.consoleToken` },
  ];
}

export function channelStates(
  s: Settings,
  consoleOn: boolean,
  stream?: StreamStatus,
  longconn?: KeeperStatus,
): ChannelState[] {
  const w = s.wecom;
  const wecomOn = s.config.channels.wecom.enabled;
  const off = (what: string) => (wecomOn ? `off: set ${what} (docs/setup-wecom.md)` : 'off in the config');
  const local = s.config.channels.local.enabled;
  const dingtalkOn = s.config.channels.dingtalk.enabled;
  return [
    {
      name: 'WeCom AI bot',
      on: wecomOn && (!!w.aibot || !!w.longconn),
      detail:
        wecomOn && w.longconn
          ? longconnDetail(w.longconn, longconn)
          : wecomOn && w.aibot
            ? 'callback mode on /wecom/aibot'
            : off(
                'WECOM_AIBOT_TOKEN and WECOM_AIBOT_AES_KEY, or WECOM_AIBOT_MODE=longconn with WECOM_AIBOT_ID and WECOM_AIBOT_SECRET',
              ),
    },
    {
      name: 'WeCom app',
      on: wecomOn && !!w.app,
      detail:
        wecomOn && w.app
          ? `callback on /wecom/app (agent ${w.app.agentId})`
          : off('WECOM_CORP_ID, WECOM_APP_TOKEN, WECOM_APP_AES_KEY, WECOM_APP_SECRET, WECOM_APP_AGENT_ID'),
    },
    {
      name: 'DingTalk robot',
      on: dingtalkOn && !!s.dingtalk,
      detail: !dingtalkOn
        ? 'off in the config'
        : !s.dingtalk
          ? 'off: set DINGTALK_APP_KEY and DINGTALK_APP_SECRET (docs/setup-dingtalk.md)'
          : s.dingtalk.mode === 'stream'
            ? streamDetail(s.dingtalk.robotCode, stream)
            : `callback on /dingtalk/robot (robot ${s.dingtalk.robotCode}, http mode)`,
    },
    {
      name: 'DingTalk cards',
      on: dingtalkOn && !!s.dingtalk?.cards,
      detail: !dingtalkOn
        ? 'off in the config'
        : !s.dingtalk
          ? 'off: needs the DingTalk robot'
          : !s.dingtalk.cards
            ? 'buttons off: cards name the words to type; set DINGTALK_CARD_TEMPLATE_ID (docs/setup-dingtalk.md)'
            : `buttons by template ${s.dingtalk.cards.templateId}, clicks ${s.dingtalk.mode === 'stream' ? 'over the stream' : 'on /dingtalk/card'}`,
    },
    {
      name: 'DingTalk custom robots',
      on: dingtalkOn && customRobots(s.config) > 0,
      detail: !dingtalkOn
        ? 'off in the config'
        : customRobots(s.config)
          ? `${customRobots(s.config)} group(s) by Webhook, at most 18 messages a minute each`
          : 'none: chats[].dingtalk.webhook and .secret (docs/setup-dingtalk.md)',
    },
    {
      name: 'console',
      on: consoleOn,
      detail: consoleOn
        ? 'local chat simulator'
        : local
          ? 'off: reachable from outside; set HOUQIN_CONSOLE_TOKEN to enable it'
          : 'off in the config',
    },
  ];
}

/** Groups reached through a custom robot's Webhook (chats[].dingtalk.webhook). */
function customRobots(config: Settings['config']): number {
  return config.chats.filter((c) => c.dingtalk.webhook).length;
}

function streamDetail(robot: string, st?: StreamStatus): string {
  if (st?.state === 'connected') return `stream mode, connected to DingTalk (robot ${robot})`;
  const why = st?.lastError ? `; last try: ${st.lastError}` : '';
  return `stream mode, connecting to DingTalk (robot ${robot}${why})`;
}

/** The banner's line for the AI bot in long-connection mode: which bot, and whether this instance holds the socket. */
function longconnDetail(l: NonNullable<Settings['wecom']['longconn']>, st?: KeeperStatus): string {
  const where = `long connection mode to ${new URL(l.wsUrl).host} (bot ${l.botId})`;
  if (st?.state === 'connected') return `${where}, connected`;
  if (st?.state === 'watching') return `${where}, held by another instance (this one takes over if it stops)`;
  const why = st?.lastError ? `; last try: ${st.lastError}` : '';
  return `${where}, connecting${why}`;
}
