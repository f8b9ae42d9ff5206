// Fires scheduled jobs exactly once per firing, however many instances run: node-cron ticks in every instance,
// each tick adds one BullMQ job whose id is "<job>@<minute>", and BullMQ ignores an add whose id exists.
// On start, a firing missed while the service was down is caught up if it is still within the job's window.
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisTopology } from '../config/redis-topology.js';
import { connect } from '../store/redis.js';
import { CronExpressionParser } from 'cron-parser';
import cron, { type ScheduledTask } from 'node-cron';
import type { Config } from '../config/schema.js';
import type { Outcome } from '../domain/outcome.js';
import type { Logger } from '../log.js';
import type { SchoolCalendar } from './calendar.js';
import type { JobContext, JobDefinition } from './job.js';
import type { SharedQueues } from '../queues/shared.js';

export interface Firing {
  /** The site whose job it is (absent: the one-site install's `default`). */
  tenant?: string;
  name: string;
  at: number; // the scheduled minute (ms)
  manual?: boolean;
}

export type ContextBase = Omit<JobContext, 'at' | 'date' | 'firing'>;

const minuteIso = (at: number) => new Date(at).toISOString().slice(0, 16).replace(/[-:]/g, '');

export function firingId(name: string, at: number): string {
  return `${name}@${minuteIso(at)}`.replace(/:/g, '_');
}

/** The most recent scheduled instant at or before `now`. */
export function previousFiring(schedule: string, tz: string, now: number): number {
  return CronExpressionParser.parse(schedule, { tz, currentDate: new Date(now + 1) })
    .prev()
    .getTime();
}

/** Whether a job runs on a given date: school days (or every day), and its own condition. */
export function runsOn(job: JobDefinition, date: string, calendar: SchoolCalendar): boolean {
  if (!job.everyDay && !calendar.isSchoolDay(date)) return false;
  return job.when ? job.when(date, calendar) : true;
}

/** The next firing that will really run (skipping non-school days), looking at most ~400 firings ahead. */
export function nextFiring(job: JobDefinition, calendar: SchoolCalendar, now: number): number | undefined {
  const it = CronExpressionParser.parse(job.schedule, { tz: calendar.timezone, currentDate: new Date(now) });
  for (let i = 0; i < 400; i++) {
    const at = it.next().getTime();
    if (runsOn(job, calendar.dateOf(at), calendar)) return at;
  }
  return undefined;
}

/** Firings to catch up at start: the last one of each job, if within its window. */
export function missedFirings(jobs: JobDefinition[], calendar: SchoolCalendar, now: number): Firing[] {
  const out: Firing[] = [];
  for (const job of jobs) {
    const at = previousFiring(job.schedule, calendar.timezone, now);
    if (now - at <= job.catchUpMs && runsOn(job, calendar.dateOf(at), calendar)) out.push({ name: job.name, at });
  }
  return out;
}

/** A site's scheduler in a deployment: the firings go through the shared queue of its shard (queues/shared.ts). */
export interface SharedFirings {
  queues: SharedQueues;
  tenant: string;
  /** Where the shared workers find this scheduler's firings. */
  site: { fire?: (job: Job<Firing>) => Promise<string> };
}

export class Scheduler {
  readonly queue: Queue<Firing>;
  private worker?: Worker<Firing>;
  private readonly tenant?: string;
  private readonly jobIdOf: (id: string) => string;
  private tasks: ScheduledTask[] = [];
  private byName: Map<string, JobDefinition>;

  constructor(
    readonly jobs: JobDefinition[],
    private config: Config,
    private calendar: SchoolCalendar,
    connection: Redis,
    private prefix: string,
    private base: ContextBase,
    private apply: (o: Outcome, base: string) => Promise<void>,
    private log: Logger,
    private shared?: SharedFirings,
  ) {
    this.byName = new Map(jobs.map((j) => [j.name, j]));
    if (shared) {
      this.tenant = shared.tenant;
      this.queue = shared.queues.shardOf(shared.tenant).scheduled;
      const lay = shared.queues.layout;
      this.jobIdOf = (id) => lay.jobId(shared.tenant, id);
      shared.site.fire = (job) => this.process(job);
      return;
    }
    this.jobIdOf = (id) => id;
    this.queue = new Queue<Firing>('scheduled', {
      connection,
      prefix: `${prefix}:q`,
      // Completed firings are kept a month: their ids are what makes a second instance's add a no-op.
      defaultJobOptions: {
        attempts: 3,
        backoff: { type: 'exponential', delay: 5000 },
        removeOnComplete: { age: 31 * 86_400 },
        removeOnFail: false,
      },
    });
  }

  enabled(job: JobDefinition): boolean {
    return this.config.jobs[job.name]?.enabled !== false;
  }

  /** Adds the firing (a no-op when another instance, or an earlier start, already did). */
  async fire(name: string, at: number): Promise<void> {
    const data: Firing = this.tenant ? { tenant: this.tenant, name, at } : { name, at };
    await this.queue.add(name, data, { jobId: this.jobIdOf(firingId(name, at)) });
  }

  async start(where: RedisTopology): Promise<void> {
    // A deployment's shared workers run the firings of every site (queues/shared.ts).
    if (!this.shared) {
      this.worker = new Worker<Firing>('scheduled', (job) => this.process(job), {
        connection: connect(where, { maxRetriesPerRequest: null }),
        prefix: `${this.prefix}:q`,
        concurrency: 2,
        lockDuration: 60_000,
      });
      this.worker.on('failed', (job, err) =>
        this.log.error({ job: job?.id, err: err.message }, 'scheduled job failed'),
      );
    }
    const live = this.jobs.filter((j) => this.enabled(j));
    for (const job of live) {
      this.tasks.push(
        cron.schedule(
          job.schedule,
          (ctx) => {
            const at = Math.floor((ctx?.date?.getTime?.() ?? Date.now()) / 60_000) * 60_000;
            this.fire(job.name, at).catch((e: Error) =>
              this.log.error({ job: job.name, err: e.message }, 'could not queue a scheduled job'),
            );
          },
          { timezone: this.calendar.timezone, name: job.name },
        ),
      );
    }
    for (const f of missedFirings(live, this.calendar, Date.now())) {
      this.log.info(
        { job: f.name, at: new Date(f.at).toISOString() },
        'catching up a firing missed while stopped (if it has not run)',
      );
      await this.fire(f.name, f.at);
    }
    this.log.info({ jobs: live.length }, 'scheduler started');
  }

  async process(job: Job<Firing>): Promise<string> {
    const def = this.byName.get(job.data.name);
    if (!def) return 'unknown job';
    const date = this.calendar.dateOf(job.data.at);
    if (!job.data.manual && !runsOn(def, date, this.calendar))
      return `skipped: ${this.calendar.offReason(date) ?? 'not its day'}`;
    await this.runJob(def, job.data.at, firingId(def.name, job.data.at));
    return 'done';
  }

  private async runJob(def: JobDefinition, at: number, firing: string): Promise<void> {
    const outcome = await def.run({ ...this.base, at, date: this.calendar.dateOf(at), firing });
    if (outcome) await this.apply(outcome, `job.${firing}`);
  }

  /** Runs a job now, as if at `date` (noon there when a date is given): the console's and the CLI's "run now". */
  async runNow(name: string, date?: string): Promise<void> {
    const def = this.byName.get(name);
    if (!def) throw new Error(`no scheduled job named "${name}"`);
    const at = date ? this.calendar.instantAt(date, '12:00') : Date.now();
    await this.runJob(def, at, `${firingId(name, at)}.manual${Date.now()}`);
  }

  list(
    now = Date.now(),
  ): { name: string; title: string; schedule: string; enabled: boolean; everyDay: boolean; next?: number }[] {
    return this.jobs.map((j) => ({
      name: j.name,
      title: j.title,
      schedule: j.schedule,
      enabled: this.enabled(j),
      everyDay: j.everyDay,
      next: this.enabled(j) ? nextFiring(j, this.calendar, now) : undefined,
    }));
  }

  async stop(): Promise<void> {
    for (const t of this.tasks) await t.stop();
    await this.worker?.close();
    if (!this.shared) await this.queue.close();
  }
}
