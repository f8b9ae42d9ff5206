// One site (a school, a ward, a tenant) inside a deployment: its roster, stores, parser, channels, scheduled jobs,
// callback routes and console, built from its SiteSettings over the deployment's shared connections and queues
// (app.ts). Every key it writes starts with its prefix (store/layout.ts), so nothing of one site reaches another.
import type Router from '@koa/router';
import type { Redis } from 'ioredis';
import type { Channel } from './channels/channel.js';
import type { Envelope } from './channels/envelope.js';
import type { Ingress } from './channels/ingress.js';
import { WecomChannel } from './channels/wecom/sender.js';
import { WecomLongconn } from './channels/wecom/longconn/index.js';
import { aibotRoutes } from './channels/wecom/aibot.js';
import { appRoutes } from './channels/wecom/app.js';
import { webhookPace } from './channels/dingtalk/pace.js';
import { DingtalkChannel } from './channels/dingtalk/sender.js';
import { DingtalkMedia } from './channels/dingtalk/media.js';
import { robotRoutes } from './channels/dingtalk/receiver.js';
import { cardRoutes } from './channels/dingtalk/card-callback.js';
import { robotStream } from './channels/dingtalk/stream-receiver.js';
import type { DingtalkStream } from './channels/dingtalk/stream.js';
import { LocalChats } from './channels/local/chats.js';
import { LocalChannel } from './channels/local/sender.js';
import { EventHub } from './channels/local/hub.js';
import { mountConsole, type ScheduledJobs } from './channels/local/console.js';
import { mountUnread } from './channels/local/unread-api.js';
import { photoLink } from './channels/local/photos.js';
import { PhotoIntake } from './channels/photo-intake.js';
import { WecomMedia } from './channels/wecom/media.js';
import { readOverlay, withOverlay } from './config/vocabulary.js';
import { createParser } from './commands/parser.js';
import type { Settings } from './config/load.js';
import type { SiteSettings } from './config/sites.js';
import { Dispatcher } from './domain/tasks/dispatch.js';
import { Roster } from './domain/roster.js';
import { TaskService } from './domain/tasks/service.js';
import { ChecklistAnswers } from './domain/checklists/answers.js';
import { MealAnswers } from './domain/meals/answers.js';
import { MealRatings } from './domain/meals/ratings.js';
import { digestsFor } from './domain/digest/service.js';
import { PhotoConversation, followCards } from './domain/tasks/photos.js';
import type { CallbackRoute } from './http/callbacks.js';
import { mountAdmin, mountExport } from './http/admin.js';
import type { Metrics } from './http/metrics.js';
import { exportMonth } from './ledger/export.js';
import type { Logger } from './log.js';
import { Queues } from './queues/runtime.js';
import type { SharedQueues } from './queues/shared.js';
import { SchoolCalendar } from './scheduler/calendar.js';
import { Scheduler } from './scheduler/scheduler.js';
import { allJobs } from '../jobs/index.js';
import type { JobDefinition } from './scheduler/job.js';
import { ChecklistStore } from './store/checklists.js';
import { keys } from './store/keys.js';
import { MealStore } from './store/meals.js';
import type { MediaStore } from './store/media.js';
import { PhotoStore } from './store/photos.js';
import { SideStore } from './store/side.js';
import { targetsOf } from './store/stats.js';
import { StrangerStore } from './store/strangers.js';
import { TaskStore } from './store/tasks.js';

/** What the deployment gives every site. */
export interface Shared {
  settings: Settings;
  redis: Redis;
  queues: SharedQueues;
  media: MediaStore;
  log: Logger;
  /** Tells the deployment's other processes that this site's learned words changed (config/vocabulary-news.ts). */
  tellVocabulary(site: string): void;
}

export type Mount = (router: Router) => void;

export interface Site {
  id: string;
  settings: SiteSettings;
  /** Where its addresses start: '' for a one-site install, /t/<id> for its console in a district. */
  base: string;
  roster: Roster;
  tasks: TaskStore;
  service: TaskService;
  calendar: SchoolCalendar;
  queues: Queues;
  scheduler: Scheduler;
  channels: Channel[];
  consoleOn: boolean;
  longconn?: WecomLongconn;
  dingtalk?: DingtalkChannel;
  /** The platform callbacks it answers (receiving roles only). */
  routes(): CallbackRoute[];
  /** Its console, unread list and admin endpoints, under `base`. */
  mounts(metrics: Metrics): Mount[];
  /** Rebuilds its parser with the words in its overlay file (a console answer here, or news from elsewhere). */
  rebuildParser(): void;
  /** Joins the shared workers and schedules its jobs (processes that run workers). */
  startWorkers(): Promise<void>;
  /** Dials what it dials itself (DingTalk Stream, the WeCom AI bot's long connection) in receiving roles. */
  startReceiving(signal: AbortSignal, metrics: Metrics): Promise<void>;
  stream?: DingtalkStream;
  stop(): Promise<void>;
}

export function createSite(s: SiteSettings, shared: Shared, extraJobs: JobDefinition[] = []): Site {
  const { settings, redis, media, log: baseLog } = shared;
  const log = s.named ? baseLog.child({ site: s.id }) : baseLog;
  const { config } = s;
  const prefix = settings.layout.site(s.id);
  const k = keys(prefix);
  const roster = new Roster(config);
  const tasks = new TaskStore(redis, prefix, { timezone: config.org.timezone, targets: targetsOf(config.sla) });
  const side = new SideStore(redis, k);
  const service = new TaskService(tasks, side, roster, createParser(config), digestsFor(tasks, roster));
  const dispatcher = new Dispatcher(tasks, roster);
  const photos = new PhotoStore(redis, prefix);
  const base = s.named ? `/t/${s.id}` : '';

  const channels: Channel[] = [];
  const w = s.wecom;
  const wecomOn = config.channels.wecom.enabled && (!!w.aibot || !!w.app || !!w.longconn);
  // Long-connection mode: every instance can send (through the holder of the one connection); see longconn/index.ts.
  const longconn = wecomOn && w.longconn ? new WecomLongconn(w.longconn, redis, prefix, log, media) : undefined;
  if (wecomOn) channels.push(new WecomChannel(w, roster, redis, k, log, media, longconn?.sender));
  // DingTalk sends with the enterprise robot's app, or only through groups' custom robots when no app is set up.
  const customRobots = config.chats.filter((c) => c.dingtalk.webhook).length;
  const dingtalkOn = config.channels.dingtalk.enabled && (!!s.dingtalk || customRobots > 0);
  const dingtalk = dingtalkOn
    ? new DingtalkChannel(s.dingtalk, roster, redis, k, log, {
        media,
        pace: { ...webhookPace, ...settings.robotPace },
      })
    : undefined;
  if (dingtalk) channels.push(dingtalk);
  const consoleOn = config.channels.local.enabled && (!settings.exposed || !!s.consoleToken);
  const chats = new LocalChats(redis, prefix);
  const hub = new EventHub(settings.redis, chats.eventsChannel);
  if (consoleOn) channels.push(new LocalChannel(chats, roster, redis, prefix));
  const queues = new Queues(shared.queues.conn, prefix, channels, log, k, {
    recipientCap: config.outbox.recipientCap,
    shared: shared.queues,
    tenant: s.id,
  });
  queues.onApply((o) => followCards(photos, tasks, o));
  const intake = new PhotoIntake(
    media,
    photos,
    {
      wecom: wecomOn ? new WecomMedia(w, redis, k, log, settings.media.maxBytes) : undefined,
      dingtalk:
        dingtalkOn && s.dingtalk ? new DingtalkMedia(s.dingtalk, redis, k, log, settings.media.maxBytes) : undefined,
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
    [...allJobs(config), ...extraJobs],
    config,
    calendar,
    shared.queues.conn,
    prefix,
    { config, roster, calendar, tasks, side, service, redis, prefix, log },
    (o, b) => queues.apply(o, b),
    log,
    { queues: shared.queues, tenant: s.id, site: queues },
  );
  const jobs: ScheduledJobs = {
    list: () => scheduler.list(),
    run: (name, date) => scheduler.runNow(name, date),
  };

  const ingress: Ingress = {
    accept: (env, replay) => queues.accept(env, replay),
    async click(env: Envelope, o?: { repeatWithinMs?: number }) {
      // Clicks are handled at once (the answer carries the new card); a repeated delivery changes nothing.
      const ttl = o?.repeatWithinMs ?? 86_400_000;
      const seen = queues.seenKey(env.id);
      if ((await redis.set(seen, '1', 'PX', ttl, 'NX')) !== 'OK') return undefined;
      try {
        const outcome = await service.handle({ ...env, tenant: s.id });
        await queues.apply(outcome, env.id);
        return outcome.clickedCard;
      } catch (e) {
        // Not handled: the platform's next delivery of this click must not be taken for a repeat.
        await redis.del(seen).catch(() => undefined);
        throw e;
      }
    },
    firstSight: async (key, ttlMs) =>
      (await shared.queues.conn.set(queues.nonceKey(key), '1', 'PX', ttlMs, 'NX')) === 'OK',
    forget: async (key) => void (await shared.queues.conn.del(queues.nonceKey(key))),
    maxSkewMs: settings.maxSkewMs,
    bodyLimitBytes: settings.bodyLimitBytes,
    log,
    now: () => Date.now(),
  };

  // The console's 未识别 list can teach the parser new words: rebuild it from the config plus the overlay just written.
  const rebuildParser = () => service.useParser(createParser(withOverlay(config, readOverlay(s.vocabularyPath))));
  const reloadVocabulary = () => {
    rebuildParser();
    shared.tellVocabulary(s.id);
  };
  const streamOn = s.dingtalk?.mode === 'stream' && config.channels.dingtalk.enabled;
  const site: Site = {
    id: s.id,
    settings: s,
    base,
    roster,
    tasks,
    service,
    calendar,
    queues,
    scheduler,
    channels,
    consoleOn,
    longconn,
    dingtalk,
    rebuildParser,
    routes() {
      const routes: CallbackRoute[] = [];
      if (w.aibot) routes.push(...aibotRoutes(ingress, w.aibot));
      if (w.app && w.corpId) routes.push(...appRoutes(ingress, { ...w.app, corpId: w.corpId }));
      // In Stream mode messages come over the connection Houqin dials, not to this route.
      if (s.dingtalk?.mode === 'http' && config.channels.dingtalk.enabled)
        routes.push(...robotRoutes(ingress, s.dingtalk));
      if (s.dingtalk?.mode === 'http' && s.dingtalk.cards && dingtalk?.cards)
        routes.push(...cardRoutes(ingress, dingtalk.cards, s.dingtalk.cards));
      // A district's site answers on its own paths: /wecom/<id>/aibot, /dingtalk/<id>/robot …
      return s.named ? routes.map((r) => ({ ...r, path: r.path.replace(/^\/(\w+)\//, `/$1/${s.id}/`) })) : routes;
    },
    mounts(metrics) {
      const mounts: Mount[] = [];
      if (consoleOn) {
        mounts.push((r) =>
          mountConsole(r, { ingress, roster, tasks, queues, chats, hub, jobs, token: s.consoleToken, media, photos }),
        );
        mounts.push((r) =>
          mountUnread(r, {
            side,
            strangers: new StrangerStore(redis, prefix),
            service,
            roster,
            queues,
            parser: () => service.currentParser(),
            vocabularyPath: s.vocabularyPath,
            reloadVocabulary,
          }),
        );
      }
      if (s.adminToken) {
        const token = s.adminToken;
        const ledger = { redis, tasks, config, roster, photoUrl: photoLink(`${settings.publicUrl}${base}`) };
        // The outbox and metrics endpoints are the deployment's (one token for one site, each site's own otherwise).
        if (!s.named) mounts.push((r) => mountAdmin(r, queues, token, metrics));
        else mounts.push((r) => mountAdmin(r, queues, token));
        mounts.push((r) =>
          mountExport(
            r,
            token,
            (month, out) => exportMonth(ledger, month, out),
            (e) => log.error({ err: e.message }, 'ledger export failed'),
          ),
        );
      }
      return mounts;
    },
    async startWorkers() {
      await queues.startWorkers({
        service,
        dispatcher,
        redis: settings.redis,
        // A sender not on the roster gets no further than a polite reply: their pictures are not fetched.
        prepare: async (env) => (roster.fromPlatform(env.channel, env.sender.platformId) ? intake.resolve(env) : env),
      });
      await scheduler.start(settings.redis);
    },
    async startReceiving(signal, metrics) {
      // The AI bot's long connection: processes that take messages in take part in holding it (one per bot).
      if (longconn) await longconn.start(ingress, metrics.longconn);
      if (streamOn) {
        // Waits for the first attempt (a few seconds at most), so the banner can say whether it worked.
        site.stream = robotStream(ingress, s.dingtalk!, { hooks: metrics.stream }, dingtalk?.cards);
        await site.stream.start();
      }
      // HTTP mode: tell DingTalk where card clicks go, in the background (the start does not wait on DingTalk).
      if (s.dingtalk?.mode === 'http' && dingtalk?.cards) void dingtalk.cards.registerWithRetries(signal);
    },
    async stop() {
      await site.stream?.stop(); // messages being handed off are ACKed; the rest DingTalk delivers again
      await longconn?.stop(); // gives the lease up, so another instance takes the connection over at once
      await hub.close(); // end console streams, or server.close() would wait for the browsers
      await scheduler.stop();
      for (const c of channels) await c.close?.();
    },
  };
  return site;
}
