// The composition root: builds every part from Settings and wires them. Tests start the same thing.
import { createServer, type Server } from 'node:http';
import type { Redis } from 'ioredis';
import type { Channel } from './channels/channel.js';
import type { Envelope } from './channels/envelope.js';
import type { Ingress } from './channels/ingress.js';
import { WecomChannel } from './channels/wecom/sender.js';
import { WecomLongconn } from './channels/wecom/longconn/index.js';
import type { KeeperStatus } from './channels/wecom/longconn/keeper.js';
import { webhookPace } from './channels/dingtalk/pace.js';
import { DingtalkChannel } from './channels/dingtalk/sender.js';
import { DingtalkMedia } from './channels/dingtalk/media.js';
import { robotStream } from './channels/dingtalk/stream-receiver.js';
import type { DingtalkStream, StreamStatus } from './channels/dingtalk/stream.js';
import { LocalChats } from './channels/local/chats.js';
import { LocalChannel } from './channels/local/sender.js';
import { EventHub } from './channels/local/hub.js';
import { mountConsole, type ScheduledJobs } from './channels/local/console.js';
import { mountUnread } from './channels/local/unread-api.js';
import { readOverlay, withOverlay } from './config/vocabulary.js';
import { VocabularyNews } from './config/vocabulary-news.js';
import { createParser } from './commands/parser.js';
import type { Settings } from './config/load.js';
import { Dispatcher } from './domain/tasks/dispatch.js';
import { Roster } from './domain/roster.js';
import { TaskService } from './domain/tasks/service.js';
import { ChecklistAnswers } from './domain/checklists/answers.js';
import { MealAnswers } from './domain/meals/answers.js';
import { MealRatings } from './domain/meals/ratings.js';
import { ChecklistStore } from './store/checklists.js';
import { MealStore } from './store/meals.js';
import { createHttpApp } from './http/app.js';
import { Metrics } from './http/metrics.js';
import type { Logger } from './log.js';
import { Queues } from './queues/runtime.js';
import { SchoolCalendar } from './scheduler/calendar.js';
import { Scheduler } from './scheduler/scheduler.js';
import { allJobs } from '../jobs/index.js';
import { checkPersistence, connect } from './store/redis.js';
import { keys } from './store/keys.js';
import { SideStore } from './store/side.js';
import { StrangerStore } from './store/strangers.js';
import { TaskStore } from './store/tasks.js';
import { targetsOf } from './store/stats.js';
import { digestsFor } from './domain/digest/service.js';
import { mountExport } from './http/admin.js';
import { exportMonth } from './ledger/export.js';
import { MediaStore } from './store/media.js';
import { PhotoStore } from './store/photos.js';
import { PhotoIntake } from './channels/photo-intake.js';
import { WecomMedia } from './channels/wecom/media.js';
import { PhotoConversation, followCards } from './domain/tasks/photos.js';
import { photoLink } from './channels/local/photos.js';

export interface Houqin {
  settings: Settings;
  redis: Redis;
  queues: Queues;
  scheduler: Scheduler;
  calendar: SchoolCalendar;
  tasks: TaskStore;
  roster: Roster;
  service: TaskService;
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
}

export function createHouqin(settings: Settings, log: Logger, opts: HouqinOptions = {}): Houqin {
  const { config } = settings;
  const prefix = config.redis.keyPrefix;
  const k = keys(prefix);
  const redis = connect(settings.redis);
  // The request path and the queues share one plain connection. Auto-pipelining was measured slower here: ioredis
  // copies BullMQ's 64 scripts into every batch (~49 µs) and keeps one batch in flight (bench/README.md).
  const fast = connect(settings.redis);
  const roster = new Roster(config);
  const tasks = new TaskStore(redis, prefix, { timezone: config.org.timezone, targets: targetsOf(config.sla) });
  const side = new SideStore(redis, k);
  const service = new TaskService(tasks, side, roster, createParser(config), digestsFor(tasks, roster));
  const dispatcher = new Dispatcher(tasks, roster);
  // Photos: bytes in the media folder, hashes in Redis (src/store/media.ts, photos.ts).
  const media = new MediaStore(settings.media.dir, settings.media.maxBytes);
  const photos = new PhotoStore(redis, prefix);

  const channels: Channel[] = [];
  const w = settings.wecom;
  const wecomOn = config.channels.wecom.enabled && (!!w.aibot || !!w.app || !!w.longconn);
  // Long-connection mode: every instance can send (through the holder of the one connection); see longconn/index.ts.
  const longconn = wecomOn && w.longconn ? new WecomLongconn(w.longconn, redis, prefix, log, media) : undefined;
  if (wecomOn) channels.push(new WecomChannel(w, roster, redis, k, log, media, longconn?.sender));
  // DingTalk sends with the enterprise robot's app, or only through groups' custom robots when no app is set up.
  const dingtalkOn = config.channels.dingtalk.enabled && (!!settings.dingtalk || customRobots(config) > 0);
  const dingtalk = dingtalkOn
    ? new DingtalkChannel(settings.dingtalk, roster, redis, k, log, {
        media,
        pace: { ...webhookPace, ...settings.robotPace },
      })
    : undefined;
  if (dingtalk) channels.push(dingtalk);
  const consoleOn = config.channels.local.enabled && (!settings.exposed || !!settings.consoleToken);
  const chats = new LocalChats(redis, prefix);
  const hub = new EventHub(settings.redis, chats.eventsChannel);
  if (consoleOn) channels.push(new LocalChannel(chats, roster, redis, prefix));
  const queues = new Queues(fast, prefix, channels, log, k, {
    recipientCap: config.outbox.recipientCap,
    replicas: settings.replicaWait.replicas,
    waitMs: settings.replicaWait.timeoutMs,
  });
  queues.onApply((o) => followCards(photos, tasks, o));
  const intake = new PhotoIntake(
    media,
    photos,
    {
      wecom: wecomOn ? new WecomMedia(w, redis, k, log, settings.media.maxBytes) : undefined,
      dingtalk:
        dingtalkOn && settings.dingtalk
          ? new DingtalkMedia(settings.dingtalk, redis, k, log, settings.media.maxBytes)
          : undefined,
    },
    log,
  );
  const calendar = new SchoolCalendar(config.calendar, config.org.timezone);
  // Checklist answers, 答复 and meal scores read messages before the command parser (and leave commands alone).
  const answersParser = createParser(config);
  const meals = new MealStore(redis, prefix);
  service.use(new PhotoConversation(photos, tasks, roster)); // first: a picture is nobody else's answer
  service.use(
    new ChecklistAnswers({
      store: new ChecklistStore(redis, prefix),
      service,
      roster,
      calendar,
      parser: answersParser,
    }),
  );
  service.use(new MealAnswers({ meals, tasks, roster, calendar }));
  service.use(new MealRatings({ meals, service, roster, parser: answersParser }));
  const scheduler = new Scheduler(
    allJobs(config),
    config,
    calendar,
    fast,
    prefix,
    { config, roster, calendar, tasks, side, service, redis, prefix, log },
    (o, base) => queues.apply(o, base),
    log,
  );
  const jobs: ScheduledJobs = {
    list: () => scheduler.list(),
    run: (name, date) => scheduler.runNow(name, date),
  };

  const nonceKey = (key: string) => `${prefix}:nonce:${key}`;
  const ingress: Ingress = {
    accept: (env, replay) => queues.accept(env, replay && { key: nonceKey(replay.key), ttlMs: replay.ttlMs }),
    async click(env: Envelope, o?: { repeatWithinMs?: number }) {
      // Clicks are handled at once (the answer carries the new card); a repeated delivery changes nothing.
      const ttl = o?.repeatWithinMs ?? 86_400_000;
      if ((await redis.set(k.seen(env.id), '1', 'PX', ttl, 'NX')) !== 'OK') return undefined;
      try {
        const outcome = await service.handle(env);
        await queues.apply(outcome, env.id);
        return outcome.clickedCard;
      } catch (e) {
        // Not handled: the platform's next delivery of this click must not be taken for a repeat.
        await redis.del(k.seen(env.id)).catch(() => undefined);
        throw e;
      }
    },
    firstSight: async (key, ttlMs) => (await fast.set(nonceKey(key), '1', 'PX', ttlMs, 'NX')) === 'OK',
    forget: async (key) => void (await fast.del(nonceKey(key))),
    maxSkewMs: settings.maxSkewMs,
    bodyLimitBytes: settings.bodyLimitBytes,
    log,
    now: () => Date.now(),
  };

  // The console's 未识别 list can teach the parser new words: rebuild it from the config plus the overlay just written.
  // Other processes (a split receiver/workers deployment) pick the words up at their next start.
  // Every other process on this Redis (the workers process beside a receiver, split roles) is told to read it again.
  const vocabulary = new VocabularyNews(settings.redis, `${prefix}:vocabulary`, log);
  const rebuildParser = () =>
    service.useParser(createParser(withOverlay(config, readOverlay(settings.vocabularyPath))));
  const reloadVocabulary = () => {
    rebuildParser();
    vocabulary.tell();
  };

  const metrics = new Metrics();
  metrics.watchOutbox(() => queues.mailbox.stats());
  metrics.watchTotal(
    'houqin_workers_rests_total',
    'Times the workers in a one-process deployment paused so that the callbacks were answered first.',
    () => queues.answersFirst.rests,
  );
  metrics.watchTotal(
    'houqin_handoff_unreplicated_total',
    'Hand-offs answered before REDIS_WAIT_REPLICAS replicas had them (REDIS_WAIT_MS ran out).',
    () => queues.handoff.unreplicated,
  );
  // DingTalk Stream mode: this process dials DingTalk itself, in the roles that take messages in.
  const streamOn =
    settings.role !== 'workers' && settings.dingtalk?.mode === 'stream' && config.channels.dingtalk.enabled;
  let stream: DingtalkStream | undefined;

  let server: Server | undefined;
  const stopping = new AbortController();
  return {
    settings,
    redis,
    queues,
    scheduler,
    calendar,
    tasks,
    roster,
    service,
    async start() {
      const persistence = await checkPersistence(redis, log);
      const { role } = settings;
      await vocabulary.listen(rebuildParser);
      if (role !== 'receiver') {
        await queues.startWorkers({
          service,
          dispatcher,
          redis: settings.redis,
          // A sender not on the roster gets no further than a polite reply: their pictures are not fetched.
          prepare: async (env) => (roster.fromPlatform(env.channel, env.sender.platformId) ? intake.resolve(env) : env),
        });
        await scheduler.start(settings.redis);
      }
      const mount: ((r: Parameters<typeof mountConsole>[0]) => void)[] = consoleOn
        ? [
            (r: Parameters<typeof mountConsole>[0]) =>
              mountConsole(r, {
                ingress,
                roster,
                tasks,
                queues,
                chats,
                hub,
                jobs,
                token: settings.consoleToken,
                media,
                photos,
              }),
            (r: Parameters<typeof mountConsole>[0]) =>
              mountUnread(r, {
                side,
                strangers: new StrangerStore(redis, prefix),
                service,
                roster,
                queues,
                parser: () => service.currentParser(),
                vocabularyPath: settings.vocabularyPath,
                reloadVocabulary,
              }),
          ]
        : [];
      if (settings.adminToken) {
        const ledger = { redis, tasks, config, roster, photoUrl: photoLink(settings.publicUrl) };
        mount.push((r) =>
          mountExport(
            r,
            settings.adminToken!,
            (month, out) => exportMonth(ledger, month, out),
            (e) => log.error({ err: e.message }, 'ledger export failed'),
          ),
        );
      }
      const app = createHttpApp({
        settings,
        ingress,
        queues,
        redis,
        mount,
        metrics,
        dingtalkCards: dingtalk?.cards,
        workersUp: opts.workersUp,
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
      // The AI bot's long connection: processes that take messages in take part in holding it (one per bot).
      if (longconn && role !== 'workers') await longconn.start(ingress, metrics.longconn);
      if (streamOn) {
        // Waits for the first attempt (a few seconds at most), so the banner can say whether it worked.
        stream = robotStream(ingress, settings.dingtalk!, { hooks: metrics.stream }, dingtalk?.cards);
        await stream.start();
      }
      // HTTP mode: tell DingTalk where card clicks go, in the background (the start does not wait on DingTalk).
      if (role !== 'workers' && settings.dingtalk?.mode === 'http' && dingtalk?.cards)
        void dingtalk.cards.registerWithRetries(stopping.signal);
      const shown = role === 'workers' ? false : consoleOn;
      const consoleUrl = shown
        ? `http://${settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host}:${port}/console`
        : undefined;
      const started: Started = {
        port,
        console: shown,
        consoleUrl,
        role,
        channels: role === 'workers' ? [] : channelStates(settings, consoleOn, stream?.status(), longconn?.status()),
        redis: { appendonly: persistence.appendonly, policy: persistence.policy },
      };
      // What the one "ready" line says; a supervised process hands it to the supervisor, which logs it (supervise.ts).
      started.ready = {
        port,
        prefix,
        role,
        console: consoleUrl,
        channels: started.channels.filter((c) => c.on).map((c) => c.name),
        ...(stream ? { dingtalkStream: stream.status().state } : {}),
        ...(longconn?.status() ? { wecomLongconn: longconn.status()!.state } : {}),
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
      await stream?.stop(); // messages being handed off are ACKed; the rest DingTalk delivers again
      await longconn?.stop(); // gives the lease up, so another instance takes the connection over at once
      await hub.close(); // end console streams, or server.close() would wait for the browsers
      await vocabulary.close();
      if (server) {
        const closed = new Promise<void>((r) => server!.close(() => r()));
        server.closeIdleConnections();
        await closed;
      }
      await scheduler.stop();
      await queues.close();
      for (const c of channels) await c.close?.();
      await Promise.allSettled([redis.quit(), fast.quit()]);
    },
  };
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
