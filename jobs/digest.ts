// digest.daily / digest.weekly / digest.monthly: the director's 日报 on school days at digest.daily, to digest.to
// (default: every director); the 周报 on the last school day of each week and the 月报 on the last school day of each
// month, to the same people and the logistics managers, with the chart. Jobs only queue the messages (DMs).
//
// The weekly and monthly summaries take the time of day of their cron (digest.weekly / digest.monthly) and run on
// every day at that time; `when` lets only the last school day of the week / month through, so a holiday Friday
// moves the 周报 to Thursday and a winter break starting on 23 January moves January's 月报 to the 22nd.
import type { Config } from '../src/config/schema.js';
import type { Period } from '../src/domain/digest/figures.js';
import { splitMessage } from '../src/domain/digest/render.js';
import { digestsFor } from '../src/domain/digest/service.js';
import { Outcome } from '../src/domain/outcome.js';
import type { JobContext, JobDefinition, JobFactory } from '../src/scheduler/job.js';

const HOUR = 3_600_000;

/** The people a digest goes to: digest.to (or every director), plus the managers for the summaries. */
export function digestRecipients(config: Config, period: Period): string[] {
  const to = config.digest.to.length
    ? config.digest.to
    : config.people.filter((p) => p.roles.includes('director')).map((p) => p.id);
  const managers = period === 'day' ? [] : config.people.filter((p) => p.roles.includes('manager')).map((p) => p.id);
  return [...new Set([...to, ...managers])];
}

/** "30 17 * * 5" → "30 17 * * *": the time of day of a cron, on every day. */
export function everyDayAt(cron: string): string {
  const [minute, hour] = cron.trim().split(/\s+/);
  return `${minute} ${hour} * * *`;
}

export async function sendDigest(
  ctx: Pick<JobContext, 'tasks' | 'roster' | 'config' | 'date' | 'log'>,
  period: Period,
  now = Date.now(),
): Promise<Outcome> {
  const digests = digestsFor(ctx.tasks, ctx.roster);
  const d = await digests.compose(period, ctx.date, now, (e) =>
    ctx.log.warn({ period, err: e.message }, 'digest chart could not be drawn; sending the text only'),
  );
  const out = new Outcome();
  const recipients = digestRecipients(ctx.config, period);
  for (const person of recipients) {
    // WeCom app markdown takes 2048 bytes: a long summary goes as several messages, split between sections.
    for (const part of splitMessage(d.markdown, 2000))
      out.send({ kind: 'user', person }, { type: 'markdown', text: part });
    if (d.image) out.send({ kind: 'user', person }, d.image);
  }
  ctx.log.info({ period, date: ctx.date, recipients: recipients.length, chart: !!d.image }, 'digest queued');
  return out;
}

const factory: JobFactory = (config) => {
  const jobs: JobDefinition[] = [
    {
      name: 'digest.daily',
      title: '园长日报',
      schedule: config.digest.daily,
      everyDay: false,
      catchUpMs: 3 * HOUR,
      run: (ctx) => sendDigest(ctx, 'day'),
    },
    {
      name: 'digest.weekly',
      title: '周报（每周最后一个上学日，附图表）',
      schedule: everyDayAt(config.digest.weekly),
      everyDay: false,
      catchUpMs: 6 * HOUR,
      when: (date, calendar) => calendar.isLastSchoolDayOfWeek(date),
      run: (ctx) => sendDigest(ctx, 'week'),
    },
    {
      name: 'digest.monthly',
      title: '月报（每月最后一个上学日，附图表）',
      schedule: everyDayAt(config.digest.monthly),
      everyDay: false,
      catchUpMs: 6 * HOUR,
      when: (date, calendar) => calendar.isLastSchoolDayOfMonth(date),
      run: (ctx) => sendDigest(ctx, 'month'),
    },
  ];
  return jobs;
};
export default factory;
