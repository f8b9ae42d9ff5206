// Every scheduled job, one file each (a file may define one job per checklist or per meal it reads from the config).
import type { Config } from '../src/config/schema.js';
import type { JobDefinition, JobFactory } from '../src/scheduler/job.js';
import checklistPost from './checklist-post.js';
import checklistDue from './checklist-due.js';
import menu from './menu.js';
import mealRound from './meal-round.js';
import digest from './digest.js';

export const jobFactories: JobFactory[] = [checklistPost, checklistDue, menu, mealRound, digest];

export function allJobs(config: Config): JobDefinition[] {
  return jobFactories
    .flatMap((f) => f(config))
    .map((j) => ({ ...j, everyDay: config.jobs[j.name]?.everyDay ?? j.everyDay }));
}
