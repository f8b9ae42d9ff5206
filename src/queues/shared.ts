// The queues every site of a deployment shares: per shard (store/layout.ts) one received-message stream with its
// hand-off and pump, and one BullMQ queue per function (inbox retries, routing, timers, outbox, scheduled firings),
// with one set of workers each. A job names its site in its data; the workers hand it to that site's code (Queues,
// runtime.ts), so 500 sites cost as many queues, workers and Redis connections as one.
import { Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Envelope } from '../channels/envelope.js';
import { envelopeSchema } from '../channels/envelope.js';
import type { RedisTopology } from '../config/redis-topology.js';
import type { Logger } from '../log.js';
import type { Firing } from '../scheduler/scheduler.js';
import type { Layout } from '../store/layout.js';
import { connect } from '../store/redis.js';
import { AnswersFirst } from './answers-first.js';
import { Handoff } from './handoff.js';
import { jobId, queueNames, routeQueues, type RouteQueue } from './names.js';
import { InboxPump } from './pump.js';

export interface OutboxJob {
  /** The site; absent in jobs queued before sites were named (the one-site install's `default`). */
  tenant?: string;
  channel: string;
  out: import('../domain/messages.js').Outgoing;
  /** The recipient it waits for (mailbox.ts); absent for the console and for jobs queued before mailboxes. */
  box?: string;
  /** A summary of folded messages: its text is read from the mailbox when it is sent. */
  summary?: boolean;
}

export interface TimerJob {
  tenant?: string;
  task: number;
  step: import('../domain/outcome.js').TimerStep;
  expect?: number;
}

export interface RouteJob {
  tenant?: string;
  task: number;
}

/** What a site does with its jobs (Queues in runtime.ts, the scheduler of the site). */
export interface SiteJobs {
  handle(env: Envelope): Promise<void>;
  onRoute(job: Job<RouteJob>): Promise<void>;
  onTimer(job: Job<TimerJob>): Promise<void>;
  send(job: Job<OutboxJob>, token?: string): Promise<void>;
  fire?(job: Job<Firing>): Promise<string>;
}

export const DEFAULT_TENANT = 'default';
const DAY = 86_400;
const keep = (ageSec: number) => ({ age: ageSec, count: 200_000 });
export const outboxAttempts = 8;

/** One shard's queues and received-message stream. */
export class Shard {
  readonly inbox: Queue<Envelope>;
  readonly outbox: Queue<OutboxJob>;
  readonly timers: Queue<TimerJob>;
  readonly route: Record<RouteQueue, Queue<RouteJob>>;
  readonly scheduled: Queue<Firing>;
  readonly handoff: Handoff;
  /** Where this shard's received messages wait (handoff.ts → pump.ts). */
  readonly stream: string;

  constructor(
    conn: Redis,
    readonly index: number,
    lay: Layout,
    seenKey: (id: string, tenant?: string) => string,
    o: { replicas?: number; waitMs?: number },
  ) {
    const opts = { connection: conn, prefix: `${lay.base}:q` };
    const queue = <T>(name: string, defaultJobOptions: JobsOptions) =>
      new Queue<T>(lay.queue(name, index), { ...opts, defaultJobOptions });
    this.inbox = queue(queueNames.inbox, {
      attempts: 5,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: keep(DAY),
      removeOnFail: false,
    });
    this.outbox = queue(queueNames.outbox, {
      attempts: outboxAttempts,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: keep(DAY),
      removeOnFail: false,
    });
    this.timers = queue(queueNames.timers, {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: keep(7 * DAY),
      removeOnFail: false,
    });
    const routeOpts: JobsOptions = {
      attempts: 5,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: keep(7 * DAY),
      removeOnFail: false,
    };
    this.route = Object.fromEntries(routeQueues.map((n) => [n, queue(n, routeOpts)])) as Shard['route'];
    // Completed firings are kept a month: their ids are what makes a second instance's add a no-op.
    this.scheduled = queue('scheduled', {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: { age: 31 * DAY },
      removeOnFail: false,
    });
    this.stream = `${lay.ingress(index)}:ingress`;
    this.handoff = new Handoff(conn, this.stream, seenKey, o);
  }

  all(): Queue[] {
    return [this.inbox, this.outbox, this.timers, ...Object.values(this.route), this.scheduled] as Queue[];
  }
}

export class SharedQueues {
  readonly shards: Shard[];
  private sites = new Map<string, SiteJobs>();
  private workers: Worker[] = [];
  private pumps: InboxPump[] = [];
  /** The receiver and the workers in one process: answers before the backlog (answers-first.ts). */
  readonly answersFirst = new AnswersFirst();

  constructor(
    /** The connection queue adds and the hand-offs share. */
    readonly conn: Redis,
    readonly layout: Layout,
    private log: Logger,
    o: { replicas?: number; waitMs?: number } = {},
  ) {
    this.shards = Array.from(
      { length: layout.shards },
      (_, i) => new Shard(conn, i, layout, (id, t) => this.seenKey(t ?? DEFAULT_TENANT, id), o),
    );
  }

  shardOf(tenant: string): Shard {
    return this.shards[this.layout.shardOf(tenant)];
  }

  /** A received message id, remembered against repeated deliveries: in its shard's slot, with the stream. */
  seenKey(tenant: string, id: string): string {
    const p = this.layout.ingress(this.layout.shardOf(tenant));
    return this.layout.tagged ? `${p}:seen:${tenant}:${id}` : `${p}:seen:${id}`;
  }

  /** A signed request's replay mark, in the same slot. */
  nonceKey(tenant: string, key: string): string {
    const p = this.layout.ingress(this.layout.shardOf(tenant));
    return this.layout.tagged ? `${p}:nonce:${tenant}:${key}` : `${p}:nonce:${key}`;
  }

  /** Hand-offs answered before the asked replicas had them, over every shard. */
  get unreplicated(): number {
    return this.shards.reduce((n, s) => n + s.handoff.unreplicated, 0);
  }

  join(tenant: string, jobs: SiteJobs): void {
    this.sites.set(tenant, jobs);
  }

  /** The durable hand-off of a received message, tagged with its site; see Handoff.accept. */
  async accept(tenant: string, env: Envelope, replay?: { key: string; ttlMs: number }): Promise<boolean> {
    this.answersFirst.arrived();
    const tagged = env.tenant === tenant ? env : { ...env, tenant };
    const r = replay && { key: this.nonceKey(tenant, replay.key), ttlMs: replay.ttlMs };
    return (await this.shardOf(tenant).handoff.accept(tagged, r)) !== 'replay';
  }

  private site(tenant: string | undefined): SiteJobs {
    const s = this.sites.get(tenant ?? DEFAULT_TENANT);
    // Kept failed, not dropped: the site may come back with the next config (houqin outbox replay, or a retry).
    if (!s) throw new Error(`no site "${tenant ?? DEFAULT_TENANT}" in this deployment's config`);
    return s;
  }

  /** Starts the workers of every shard, and the pumps that read the received messages. */
  async start(where: RedisTopology, o: { concurrency?: number } = {}): Promise<void> {
    if (this.workers.length) return;
    const make = <T>(name: string, fn: (job: Job<T>, token?: string) => Promise<unknown>, concurrency: number) => {
      // A crashed instance's jobs come back after their lock lapses: 10 s, checked every 5 s (BullMQ's defaults
      // are 30 s each). Our jobs take milliseconds, so the lock is renewed long before it could lapse.
      const w = new Worker<T>(name, fn, {
        connection: connect(where, { maxRetriesPerRequest: null }),
        prefix: `${this.layout.base}:q`,
        concurrency,
        lockDuration: name.includes('scheduled') ? 60_000 : 10_000,
        stalledInterval: 5_000,
        maxStalledCount: 2,
      });
      w.on('failed', (job, err) =>
        this.log.error({ queue: name, job: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'),
      );
      w.on('error', (err) => this.log.error({ queue: name, err: err.message }, 'worker error'));
      this.workers.push(w);
    };
    const c = o.concurrency ?? 16;
    const handle = (env: Envelope) => this.site(env.tenant).handle(env);
    for (const shard of this.shards) {
      const q = (name: string) => this.layout.queue(name, shard.index);
      // Received messages are handled straight off the stream (pump.ts); the inbox queue has only their retries.
      make<Envelope>(q(queueNames.inbox), (job) => handle(envelopeSchema.parse(job.data)), 4);
      for (const kind of routeQueues) make<RouteJob>(q(kind), (job) => this.site(job.data.tenant).onRoute(job), 4);
      make<TimerJob>(q(queueNames.timers), (job) => this.site(job.data.tenant).onTimer(job), 4);
      make<OutboxJob>(q(queueNames.outbox), (job, token) => this.site(job.data.tenant).send(job, token), c);
      make<Firing>(
        q('scheduled'),
        async (job) => {
          const site = this.site(job.data.tenant);
          return site.fire ? site.fire(job) : 'no scheduler here';
        },
        2,
      );
      const pump = new InboxPump(where, this.conn, shard.stream, handle, shard.inbox, this.log, {
        batch: c,
        rest: (ms) => this.answersFirst.restAfter(ms),
        idOf: (env) => this.layout.jobId(env.tenant ?? DEFAULT_TENANT, jobId(env.id)),
      });
      this.pumps.push(pump);
    }
    for (const p of this.pumps) await p.start();
  }

  workersRunning(): boolean {
    return (
      this.workers.length > 0 && this.workers.every((w) => w.isRunning()) && this.pumps.every((p) => p.isRunning())
    );
  }

  /** Stops taking new jobs and waits for the ones in flight (graceful shutdown drains). */
  async close(): Promise<void> {
    await Promise.all(this.pumps.map((p) => p.stop())); // what they have not moved stays in the stream
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all(this.shards.flatMap((s) => s.all()).map((q) => q.close()));
  }
}
