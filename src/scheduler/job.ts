// A scheduled job: its name, its schedule and what it does. Jobs enqueue work (an Outcome); they never call
// a platform directly. One file per job (or per family of jobs) in jobs/, listed in jobs/index.ts.
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Outcome } from '../domain/outcome.js';
import type { Roster } from '../domain/roster.js';
import type { TaskService } from '../domain/tasks/service.js';
import type { Logger } from '../log.js';
import type { SideStore } from '../store/side.js';
import type { TaskStore } from '../store/tasks.js';
import type { SchoolCalendar } from './calendar.js';

export interface JobContext {
  config: Config;
  roster: Roster;
  calendar: SchoolCalendar;
  tasks: TaskStore;
  side: SideStore;
  service: TaskService;
  redis: Redis;
  prefix: string;
  log: Logger;
  /** The instant this firing stands for (its scheduled minute, or "now" for a manual run). */
  at: number;
  /** YYYY-MM-DD of `at` in the school's time zone (the date a manual run pretends to be). */
  date: string;
  /** Unique per firing; use it in ids so a re-run of the same firing repeats nothing. */
  firing: string;
}

export interface JobDefinition {
  name: string; // e.g. "checklist.safety", "digest.daily"
  title: string; // Chinese, for `houqin jobs list` and the console
  schedule: string; // five-field cron in org.timezone
  everyDay: boolean; // false: school days only
  /** A firing missed while the service was down still runs if it is at most this late. */
  catchUpMs: number;
  /** Extra condition on the date (first school day of the week …); default: every (school) day. */
  when?: (date: string, calendar: SchoolCalendar) => boolean;
  run(ctx: JobContext): Promise<Outcome | undefined>;
}

export type JobFactory = (config: Config) => JobDefinition[];
