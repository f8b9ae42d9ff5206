// The queues and their workers. Everything with a side effect on another system goes through here
// (design.md §2), so a platform outage delays messages and loses none.
import { DelayedError, type Queue, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisTopology } from '../config/redis-topology.js';
import type { Channel } from '../channels/channel.js';
import { RetryLater } from '../channels/channel.js';
import type { Envelope } from '../channels/envelope.js';
import type { Dispatcher } from '../domain/tasks/dispatch.js';
import type { Outgoing } from '../domain/messages.js';
import type { Outcome } from '../domain/outcome.js';
import type { TaskService } from '../domain/tasks/service.js';
import { PlatformError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Keys } from '../store/keys.js';
import { jobId, type RouteQueue, routeQueueOf } from './names.js';
import { mergeReplies } from './merge.js';
import { boxOf, Mailbox, type MailboxItem, summaryText } from './mailbox.js';
import type { Handoff } from './handoff.js';
import type { AnswersFirst } from './answers-first.js';
import { layout } from '../store/layout.js';
import type { Firing } from '../scheduler/scheduler.js';
import {
  DEFAULT_TENANT,
  type OutboxJob,
  type RouteJob,
  SharedQueues,
  type Shard,
  type SiteJobs,
  type TimerJob,
} from './shared.js';

export { outboxAttempts, type OutboxJob, type TimerJob } from './shared.js';

/**
 * One site's view of the queues: what it queues (apply), what it receives (accept), and what its jobs do when the
 * shared workers (shared.ts) hand them over. A one-site install, and a test, makes it on its own: it then owns
 * queues of its own and starts their workers itself.
 */
export class Queues implements SiteJobs {
  readonly inbox: Queue<Envelope>;
  readonly outbox: Queue<OutboxJob>;
  readonly timers: Queue<TimerJob>;
  readonly route: Record<RouteQueue, Queue<RouteJob>>;
  readonly shared: SharedQueues;
  readonly tenant: string;
  private readonly owned: boolean;
  private readonly shard: Shard;
  private warned = new Set<string>();
  readonly mailbox: Mailbox;
  private deps?: WorkerDeps;
  /** Runs a job of the site's scheduler (scheduler.ts), set by the scheduler when it joins. */
  fire?: (job: Job<Firing>) => Promise<string>;

  constructor(
    /** The connection queue adds and the replay check share. */
    readonly conn: Redis,
    /** The site's key prefix (store/layout.ts `site`). */
    readonly prefix: string,
    private channels: Channel[],
    private log: Logger,
    private k: Keys,
    o: {
      recipientCap?: number;
      replicas?: number;
      waitMs?: number;
      /** The deployment's queues, shared with its other sites; absent: queues of its own, as one site. */
      shared?: SharedQueues;
      tenant?: string;
    } = {},
  ) {
    this.owned = !o.shared;
    this.shared = o.shared ?? new SharedQueues(conn, layout({ base: prefix, tagged: false }), log, o);
    this.tenant = o.tenant ?? DEFAULT_TENANT;
    this.shard = this.shared.shardOf(this.tenant);
    this.mailbox = new Mailbox(conn, prefix, o.recipientCap ?? 30, k.sent);
    this.inbox = this.shard.inbox;
    this.outbox = this.shard.outbox;
    this.timers = this.shard.timers;
    this.route = this.shard.route;
  }

  get handoff(): Handoff {
    return this.shard.handoff;
  }

  get answersFirst(): AnswersFirst {
    return this.shared.answersFirst;
  }

  /** A job id of this site: unique in queues other sites share. */
  private id(...parts: (string | number)[]): string {
    return this.shared.layout.jobId(this.tenant, jobId(...parts));
  }

  /** A job's id as this site made it (without the site's mark), for the ids of what the job queues in turn. */
  private own(id: string): string {
    const mark = this.shared.layout.jobId(this.tenant, '');
    return mark && id.startsWith(mark) ? id.slice(mark.length) : id;
  }

  /**
   * The durable hand-off of a received message: once this resolves true the message cannot be lost. False (and
   * nothing stored) when `replay` names a request already seen within its ttl.
   */
  accept(env: Envelope, replay?: { key: string; ttlMs: number }): Promise<boolean> {
    return this.shared.accept(this.tenant, env, replay);
  }

  /** A signed request's replay mark (for requests handled inline: ingress firstSight/forget). */
  nonceKey(key: string): string {
    return this.shared.nonceKey(this.tenant, key);
  }

  /** A received message id's "stored" mark (a click handled inline shares it with the hand-off). */
  seenKey(id: string): string {
    return this.shared.seenKey(this.tenant, id);
  }

  /** Steps every Outcome goes through before it is carried out (app.ts: a task's photos follow its cards). */
  private beforeApply: ((o: Outcome) => Promise<void>)[] = [];

  onApply(step: (o: Outcome) => Promise<void>): void {
    this.beforeApply.push(step);
  }

  /** Carries out an Outcome. `base` makes every job id deterministic for the job that produced it. */
  async apply(o: Outcome, base: string): Promise<void> {
    for (const step of this.beforeApply) await step(o);
    const adds: Promise<unknown>[] = [];
    const platforms = this.channels.filter((c) => c.name !== 'local');
    // With two platforms on (WeCom and DingTalk), a person who has ids on both would get every DM twice: remember the
    // one they last wrote from, and send their DMs there only. The console keeps its copy either way.
    if (o.via && o.via.channel !== 'local' && platforms.length > 1)
      adds.push(this.conn.set(this.k.via(o.via.person), o.via.channel, 'EX', 180 * 86_400));
    const messages = mergeReplies(o.messages);
    const mailed: MailboxItem[] = [];
    const preferred = platforms.length > 1 ? await this.preferredChannels(messages, o.via) : undefined;
    messages.forEach((m, i) => {
      let via = this.channels.filter((c) => c.reaches(m.to));
      if (!via.length) this.warnOnce(m);
      const choice = m.to.kind === 'user' ? preferred?.get(m.to.person) : undefined;
      if (choice && via.some((c) => c.name === choice))
        via = via.filter((c) => c.name === 'local' || c.name === choice);
      else if (m.to.kind === 'user' && platforms.length > 1) {
        // Never heard from: the first platform that reaches them (the config's order: WeCom, then DingTalk).
        const first = via.find((c) => c.name !== 'local');
        via = via.filter((c) => c.name === 'local' || c === first);
      }
      for (const c of via) {
        const id = this.id(base, `m${i}`, c.name);
        // The console has no rate limit to wait for: its messages go straight on.
        const box = c.name === 'local' ? undefined : boxOf(c.name, m.to);
        if (box) mailed.push({ box, channel: c.name, jobId: id, out: m });
        else adds.push(this.outbox.add('send', { tenant: this.tenant, channel: c.name, out: m }, { jobId: id }));
      }
    });
    if (mailed.length) adds.push(this.post(mailed));
    for (const t of o.timers) {
      adds.push(
        this.timers.add(
          t.step,
          { tenant: this.tenant, task: t.task, step: t.step, expect: t.expect },
          { jobId: this.id(`t${t.task}`, t.id), delay: t.delayMs },
        ),
      );
    }
    for (const r of o.routes)
      adds.push(
        this.route[routeQueueOf(r.kind)].add(
          'route',
          { tenant: this.tenant, task: r.task },
          { jobId: this.id(`t${r.task}`, 'route') },
        ),
      );
    await Promise.all(adds);
  }

  /** Queues what the recipients' mailboxes take; what lost out is removed where it still can be. */
  private async post(items: MailboxItem[]): Promise<void> {
    const r = await this.mailbox.post(items);
    const adds: Promise<unknown>[] = [];
    items.forEach((it, i) => {
      if (r.each[i].kind === 'add')
        adds.push(
          this.outbox.add(
            'send',
            { tenant: this.tenant, channel: it.channel, out: it.out, box: it.box },
            { jobId: it.jobId },
          ),
        );
    });
    for (const s of r.summaries) {
      const channel = s.box.slice(0, s.box.indexOf('|'));
      const out: Outgoing = { to: s.to, message: { type: 'text', text: '' }, info: true };
      const id = this.shared.layout.jobId(this.tenant, s.id);
      adds.push(
        this.outbox.add('send', { tenant: this.tenant, channel, out, box: s.box, summary: true }, { jobId: id }),
      );
    }
    // A job that lost out completes without sending when it runs; removing it now keeps the outbox small. One that is
    // running or locked cannot be removed, and needs not be.
    for (const id of r.gone) adds.push(this.outbox.remove(id).catch(() => 0));
    await Promise.all(adds);
  }

  /** Where each person addressed by a DM last wrote from (the message being handled counts first). */
  private async preferredChannels(
    messages: Outgoing[],
    just?: { person: string; channel: string },
  ): Promise<Map<string, string>> {
    const people = [...new Set(messages.flatMap((m) => (m.to.kind === 'user' ? [m.to.person] : [])))];
    const out = new Map<string, string>();
    if (!people.length) return out;
    const stored = await this.conn.mget(...people.map((p) => this.k.via(p)));
    people.forEach((p, i) => {
      const v = stored[i];
      if (v) out.set(p, v);
    });
    if (just && just.channel !== 'local') out.set(just.person, just.channel);
    return out;
  }

  private warnOnce(m: Outgoing): void {
    const what = m.to.kind === 'user' ? `user:${m.to.person}` : m.to.kind === 'chat' ? `chat:${m.to.chat}` : m.to.kind;
    if (this.warned.has(what)) return;
    this.warned.add(what);
    this.log.warn(
      { target: what },
      'no enabled channel can reach this target; its messages are not sent (configure a channel for it)',
    );
  }

  /**
   * Takes this site's jobs from the shared workers. A Queues of its own (one site, a test) starts the workers too;
   * in a deployment of many sites the deployment starts them once, after every site has joined (app.ts).
   */
  async startWorkers(deps: WorkerDeps): Promise<void> {
    this.deps = deps;
    this.shared.join(this.tenant, this);
    if (this.owned) await this.shared.start(deps.redis, { concurrency: deps.concurrency });
  }

  private working(): WorkerDeps {
    if (!this.deps) throw new Error(`site ${this.tenant}: a job came before its workers started`);
    return this.deps;
  }

  async handle(env: Envelope): Promise<void> {
    const d = this.working();
    const ready = d.prepare ? await d.prepare(env) : env;
    await this.apply(await d.service.handle(ready), env.id);
  }

  async onRoute(job: Job<RouteJob>): Promise<void> {
    const outcome = await this.working().dispatcher.route(job.data.task);
    await this.apply(outcome, `t${job.data.task}.route`);
  }

  async onTimer(job: Job<TimerJob>): Promise<void> {
    const outcome = await this.working().dispatcher.timer(job.data.step, job.data.task, job.data.expect);
    await this.apply(outcome, `t${job.data.task}.${this.own(job.id!)}`);
  }

  async send(job: Job<OutboxJob>, token?: string): Promise<void> {
    const sentKey = this.k.sent(job.id!);
    const { box, channel: name } = job.data;
    let out = job.data.out;
    if (box) {
      const c = await this.mailbox.claim(job.id!, box, !!job.data.summary);
      // Sent before (a crash after the platform took it), or coalesced into another message while it waited.
      if (c.state !== 'ok') return;
      if (c.summary) {
        if (!c.summary.n) return void (await this.mailbox.done(job.id!, box, name, false));
        out = { ...out, message: { type: 'text', text: summaryText(c.summary) } };
      }
    } else if (await this.conn.exists(sentKey)) return; // a send the platform took but whose job did not complete
    const channel = this.channels.find((c) => c.name === name);
    try {
      if (!channel) throw new UnrecoverableError(`channel ${name} is not enabled`);
      await channel.deliver(out, { jobId: job.id!, attempt: job.attemptsMade + 1 });
    } catch (e) {
      if (e instanceof RetryLater) {
        // Scheduled for the moment its slot opens (the channel booked it), not polled.
        await job.moveToDelayed(Date.now() + e.delayMs, token);
        throw new DelayedError(e.message);
      }
      const final =
        e instanceof UnrecoverableError ||
        (e instanceof PlatformError && !e.retryable) ||
        job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // Given up: it no longer waits (the failed job is kept for `houqin outbox replay`).
      if (final && box) await this.mailbox.done(job.id!, box, name, false);
      if (e instanceof PlatformError && !e.retryable) throw new UnrecoverableError(e.message);
      throw e;
    }
    if (box) await this.mailbox.done(job.id!, box, name, true);
    else await this.conn.set(sentKey, '1', 'EX', 7 * 86_400);
  }

  /** Outgoing messages that failed for good, for an operator to read and replay. */
  async failedOutbox(
    limit = 100,
  ): Promise<
    { id: string; channel: string; to: Outgoing['to']; message: Outgoing['message']; reason: string; at: number }[]
  > {
    const jobs = (await this.outbox.getFailed(0, limit - 1)).filter((j) => this.mine(j.data));
    return jobs.map((j) => ({
      id: j.id!,
      channel: j.data.channel,
      to: j.data.out.to,
      message: j.data.out.message,
      reason: j.failedReason,
      at: j.finishedOn ?? j.timestamp,
    }));
  }

  async replayOutbox(ids?: string[]): Promise<number> {
    const jobs = ids
      ? (await Promise.all(ids.map((id) => this.outbox.getJob(id)))).filter((j) => j !== undefined)
      : await this.outbox.getFailed(0, 999);
    const ours = jobs.filter((j) => this.mine(j.data));
    let n = 0;
    for (const j of ours) {
      if ((await j.getState()) !== 'failed') continue;
      await j.retry('failed');
      n++;
    }
    return n;
  }

  /** Timers still to fire, with when (for the console's task board). */
  async pendingTimers(): Promise<{ task: number; step: TimerJob['step']; at: number }[]> {
    const jobs = (await this.timers.getDelayed(0, 4999)).filter((j) => this.mine(j.data));
    return jobs
      .map((j) => ({ task: j.data.task, step: j.data.step, at: j.timestamp + (j.opts.delay ?? 0) }))
      .sort((a, b) => a.at - b.at);
  }

  /** Fires now every timer due within `ms` (the console's fast-forward). */
  async advanceTimers(ms: number): Promise<number> {
    const until = Date.now() + ms;
    const jobs = (await this.timers.getDelayed(0, 4999)).filter((j) => this.mine(j.data));
    let n = 0;
    for (const j of jobs) {
      if (j.timestamp + (j.opts.delay ?? 0) > until) continue;
      try {
        await j.promote();
        n++;
      } catch {
        // Fired on its own meanwhile: nothing to fast-forward.
      }
    }
    return n;
  }

  /** A job of this site (one queued before sites were named belongs to the one-site install). */
  private mine(data: { tenant?: string } | undefined): boolean {
    return (data?.tenant ?? DEFAULT_TENANT) === this.tenant;
  }

  workersRunning(): boolean {
    return this.shared.workersRunning();
  }

  /** Stops taking new jobs and waits for the ones in flight (graceful shutdown drains). Queues of its own only. */
  async close(): Promise<void> {
    if (this.owned) await this.shared.close();
  }
}

export interface WorkerDeps {
  service: TaskService;
  dispatcher: Dispatcher;
  redis: RedisTopology;
  concurrency?: number;
  /** A received message's first step in the worker, before the service (photo-intake.ts: fetch its pictures). */
  prepare?: (env: Envelope) => Promise<Envelope>;
}
