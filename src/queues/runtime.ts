// The queues and their workers. Everything with a side effect on another system goes through here
// (design.md §2), so a platform outage delays messages and loses none.
import { DelayedError, Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { OneMaster } from '../config/redis-topology.js';
import { connect } from '../store/redis.js';
import type { Channel } from '../channels/channel.js';
import { RetryLater } from '../channels/channel.js';
import { envelopeSchema, type Envelope } from '../channels/envelope.js';
import type { Dispatcher } from '../domain/tasks/dispatch.js';
import type { Outgoing } from '../domain/messages.js';
import type { Outcome, TimerStep } from '../domain/outcome.js';
import type { TaskService } from '../domain/tasks/service.js';
import { PlatformError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Keys } from '../store/keys.js';
import { jobId, queueNames, type RouteQueue, routeQueueOf, routeQueues } from './names.js';
import { mergeReplies } from './merge.js';
import { boxOf, Mailbox, type MailboxItem, summaryText } from './mailbox.js';
import { Handoff } from './handoff.js';
import { AnswersFirst } from './answers-first.js';
import { InboxPump } from './pump.js';

export interface OutboxJob {
  channel: string;
  out: Outgoing;
  /** The recipient it waits for (mailbox.ts); absent for the console and for jobs queued before mailboxes. */
  box?: string;
  /** A summary of folded messages: its text is read from the mailbox when it is sent. */
  summary?: boolean;
}

export interface TimerJob {
  task: number;
  step: TimerStep;
  expect?: number;
}

const DAY = 86_400;
const keep = (ageSec: number) => ({ age: ageSec, count: 200_000 });

export const outboxAttempts = 8;

export class Queues {
  readonly inbox: Queue<Envelope>;
  readonly outbox: Queue<OutboxJob>;
  readonly timers: Queue<TimerJob>;
  readonly route: Record<RouteQueue, Queue<{ task: number }>>;
  private workers: Worker[] = [];
  private pump?: InboxPump;
  /** The receiver and the workers in one process: answers before the backlog (answers-first.ts). */
  readonly answersFirst = new AnswersFirst();
  readonly handoff: Handoff;
  private warned = new Set<string>();
  readonly mailbox: Mailbox;

  constructor(
    /** The connection queue adds and the replay check share. */
    readonly conn: Redis,
    readonly prefix: string,
    private channels: Channel[],
    private log: Logger,
    private k: Keys,
    o: { recipientCap?: number; replicas?: number; waitMs?: number } = {},
  ) {
    this.mailbox = new Mailbox(conn, prefix, o.recipientCap ?? 30, k.sent);
    const opts = { connection: conn, prefix: `${prefix}:q` };
    this.inbox = new Queue(queueNames.inbox, {
      ...opts,
      defaultJobOptions: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: keep(DAY),
        removeOnFail: false,
      },
    });
    this.outbox = new Queue(queueNames.outbox, {
      ...opts,
      defaultJobOptions: {
        attempts: outboxAttempts,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: keep(DAY),
        removeOnFail: false,
      },
    });
    this.timers = new Queue(queueNames.timers, {
      ...opts,
      defaultJobOptions: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: keep(7 * DAY),
        removeOnFail: false,
      },
    });
    const routeOpts: JobsOptions = {
      attempts: 5,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: keep(7 * DAY),
      removeOnFail: false,
    };
    this.route = Object.fromEntries(
      routeQueues.map((n) => [n, new Queue(n, { ...opts, defaultJobOptions: routeOpts })]),
    ) as Queues['route'];
    this.handoff = new Handoff(conn, k.ingress, k.seen, { replicas: o.replicas, waitMs: o.waitMs });
  }

  /**
   * The durable hand-off of a received message: once this resolves true the message cannot be lost. False (and
   * nothing stored) when `replay` names a request already seen within its ttl.
   */
  async accept(env: Envelope, replay?: { key: string; ttlMs: number }): Promise<boolean> {
    this.answersFirst.arrived();
    return (await this.handoff.accept(env, replay)) !== 'replay';
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
        const id = jobId(base, `m${i}`, c.name);
        // The console has no rate limit to wait for: its messages go straight on.
        const box = c.name === 'local' ? undefined : boxOf(c.name, m.to);
        if (box) mailed.push({ box, channel: c.name, jobId: id, out: m });
        else adds.push(this.outbox.add('send', { channel: c.name, out: m }, { jobId: id }));
      }
    });
    if (mailed.length) adds.push(this.post(mailed));
    for (const t of o.timers) {
      adds.push(
        this.timers.add(
          t.step,
          { task: t.task, step: t.step, expect: t.expect },
          { jobId: jobId(`t${t.task}`, t.id), delay: t.delayMs },
        ),
      );
    }
    for (const r of o.routes)
      adds.push(
        this.route[routeQueueOf(r.kind)].add('route', { task: r.task }, { jobId: jobId(`t${r.task}`, 'route') }),
      );
    await Promise.all(adds);
  }

  /** Queues what the recipients' mailboxes take; what lost out is removed where it still can be. */
  private async post(items: MailboxItem[]): Promise<void> {
    const r = await this.mailbox.post(items);
    const adds: Promise<unknown>[] = [];
    items.forEach((it, i) => {
      if (r.each[i].kind === 'add')
        adds.push(this.outbox.add('send', { channel: it.channel, out: it.out, box: it.box }, { jobId: it.jobId }));
    });
    for (const s of r.summaries) {
      const channel = s.box.slice(0, s.box.indexOf('|'));
      const out: Outgoing = { to: s.to, message: { type: 'text', text: '' }, info: true };
      adds.push(this.outbox.add('send', { channel, out, box: s.box, summary: true }, { jobId: s.id }));
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

  async startWorkers(deps: {
    service: TaskService;
    dispatcher: Dispatcher;
    redis: OneMaster;
    concurrency?: number;
    /** A received message's first step in the worker, before the service (photo-intake.ts: fetch its pictures). */
    prepare?: (env: Envelope) => Promise<Envelope>;
  }): Promise<void> {
    const make = <T>(name: string, fn: (job: Job<T>, token?: string) => Promise<unknown>, concurrency: number) => {
      // A crashed instance's jobs come back after their lock lapses: 10 s, checked every 5 s (BullMQ's defaults
      // are 30 s each). Our jobs take milliseconds, so the lock is renewed long before it could lapse.
      const w = new Worker<T>(name, fn, {
        connection: connect(deps.redis, { maxRetriesPerRequest: null }),
        prefix: `${this.prefix}:q`,
        concurrency,
        lockDuration: 10_000,
        stalledInterval: 5_000,
        maxStalledCount: 2,
      });
      w.on('failed', (job, err) =>
        this.log.error({ queue: name, job: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'),
      );
      w.on('error', (err) => this.log.error({ queue: name, err: err.message }, 'worker error'));
      this.workers.push(w);
    };
    const c = deps.concurrency ?? 16;
    const prepare = deps.prepare ?? (async (env: Envelope) => env);
    const handle = async (env: Envelope) => this.apply(await deps.service.handle(await prepare(env)), env.id);
    // Received messages are handled straight off the stream (pump.ts); the inbox queue has only their retries.
    make<Envelope>(queueNames.inbox, (job) => handle(envelopeSchema.parse(job.data)), 4);
    for (const kind of routeQueues) {
      make<{ task: number }>(
        kind,
        async (job) => {
          const outcome = await deps.dispatcher.route(job.data.task);
          await this.apply(outcome, `t${job.data.task}.route`);
        },
        4,
      );
    }
    make<TimerJob>(
      queueNames.timers,
      async (job) => {
        const outcome = await deps.dispatcher.timer(job.data.step, job.data.task, job.data.expect);
        await this.apply(outcome, `t${job.data.task}.${job.id}`);
      },
      4,
    );
    make<OutboxJob>(queueNames.outbox, (job, token) => this.send(job, token), c);
    this.pump = new InboxPump(deps.redis, this.conn, this.k.ingress, handle, this.inbox, this.log, {
      batch: c,
      rest: (ms) => this.answersFirst.restAfter(ms),
    });
    await this.pump.start();
  }

  private async send(job: Job<OutboxJob>, token?: string): Promise<void> {
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
    else await this.conn.set(sentKey, '1', 'EX', 7 * DAY);
  }

  /** Outgoing messages that failed for good, for an operator to read and replay. */
  async failedOutbox(
    limit = 100,
  ): Promise<
    { id: string; channel: string; to: Outgoing['to']; message: Outgoing['message']; reason: string; at: number }[]
  > {
    const jobs = await this.outbox.getFailed(0, limit - 1);
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
    let n = 0;
    for (const j of jobs) {
      if ((await j.getState()) !== 'failed') continue;
      await j.retry('failed');
      n++;
    }
    return n;
  }

  /** Timers still to fire, with when (for the console's task board). */
  async pendingTimers(): Promise<{ task: number; step: TimerStep; at: number }[]> {
    const jobs = await this.timers.getDelayed(0, 4999);
    return jobs
      .map((j) => ({ task: j.data.task, step: j.data.step, at: j.timestamp + (j.opts.delay ?? 0) }))
      .sort((a, b) => a.at - b.at);
  }

  /** Fires now every timer due within `ms` (the console's fast-forward). */
  async advanceTimers(ms: number): Promise<number> {
    const until = Date.now() + ms;
    const jobs = await this.timers.getDelayed(0, 4999);
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

  workersRunning(): boolean {
    return this.workers.length > 0 && this.workers.every((w) => w.isRunning()) && !!this.pump?.isRunning();
  }

  /** Stops taking new jobs and waits for the ones in flight (graceful shutdown drains). */
  async close(): Promise<void> {
    await this.pump?.stop(); // what it has not moved stays in the stream for the next start
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([this.inbox, this.outbox, this.timers, ...Object.values(this.route)].map((q) => q.close()));
  }
}
