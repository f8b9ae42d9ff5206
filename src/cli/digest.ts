// `houqin digest [--period day|week|month] [--date YYYY-MM-DD] [--chart FILE.png]` — prints the digest the
// director gets (the same code as the scheduled job and 日报/周报/月报 in chat), as markdown, for a terminal or a
// test. --chart also writes the weekly / monthly chart.
import { writeFileSync } from 'node:fs';
import { loadSettings, type Env } from '../config/load.js';
import { pickSite, siteOption } from './site-arg.js';
import type { Period } from '../domain/digest/figures.js';
import { digestsFor } from '../domain/digest/service.js';
import { Roster } from '../domain/roster.js';
import { connect } from '../store/redis.js';
import { targetsOf } from '../store/stats.js';
import { TaskStore } from '../store/tasks.js';
import { defaultConfigPath } from './paths.js';

const usage = 'usage: houqin digest [--period day|week|month] [--date YYYY-MM-DD] [--chart FILE.png]\n';

export function parseDigestArgs(args: string[]): { period: Period; date?: string; chart?: string } | string {
  let period: Period = 'day';
  let date: string | undefined;
  let chart: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split('=', 2) as [string, string | undefined];
    const value = () => inline ?? args[++i];
    if (flag === '--period' || flag === '-p') {
      const v = value();
      if (v !== 'day' && v !== 'week' && v !== 'month') return `--period must be day, week or month (got "${v ?? ''}")`;
      period = v;
    } else if (flag === '--date' || flag === '-d') {
      date = value();
      if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date)))
        return `--date must be YYYY-MM-DD (got "${date ?? ''}")`;
    } else if (flag === '--chart') {
      chart = value();
      if (!chart) return '--chart needs a file name';
    } else return `unknown option "${args[i]}"`;
  }
  return { period, date, chart };
}

export async function digestCommand(
  args: string[],
  env: Env,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const opt = siteOption(args);
  const parsed = parseDigestArgs(opt.args);
  if (typeof parsed === 'string') {
    err.write(`${parsed}\n${usage}`);
    return 2;
  }
  const settings = loadSettings(env, env.HOUQIN_CONFIG || defaultConfigPath());
  const { config } = pickSite(settings, opt.id);
  const redis = connect(settings.redis, { maxRetriesPerRequest: 2 });
  try {
    const tasks = new TaskStore(redis, settings.layout.site(pickSite(settings, opt.id).id), {
      timezone: config.org.timezone,
      targets: targetsOf(config.sla),
    });
    const digests = digestsFor(tasks, new Roster(config));
    const date = parsed.date ?? digests.today();
    if (parsed.chart && parsed.period !== 'day') {
      const d = await digests.compose(parsed.period, date, Date.now(), (e) =>
        err.write(`chart not drawn: ${e.message}\n`),
      );
      out.write(d.markdown + '\n');
      if (d.image) {
        writeFileSync(parsed.chart, Buffer.from(d.image.png, 'base64'));
        err.write(`chart written to ${parsed.chart}\n`);
      }
    } else out.write((await digests.text(parsed.period, date)) + '\n');
    return 0;
  } finally {
    redis.disconnect();
  }
}
