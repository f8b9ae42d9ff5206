// `houqin jobs list` — every scheduled job with its schedule and next firing;
// `houqin jobs run NAME [--date YYYY-MM-DD]` — fire one now, as if on that date. The work it makes is queued;
// the running service delivers it.
import { createHouqin } from '../app.js';
import { loadSettings, type Env } from '../config/load.js';
import { createLogger } from '../log.js';
import { defaultConfigPath } from './paths.js';
import { pickSite, siteOption } from './site-arg.js';

export async function jobsCommand(
  all: string[],
  env: Env,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { args, id } = siteOption(all);
  const [sub, name, ...rest] = args;
  const dateAt = rest.indexOf('--date');
  const date = dateAt >= 0 ? rest[dateAt + 1] : undefined;
  if ((sub !== 'list' && !(sub === 'run' && name)) || (date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(date))) {
    process.stderr.write('usage: houqin jobs list | houqin jobs run NAME [--date YYYY-MM-DD]\n');
    return 2;
  }
  const settings = loadSettings(env, env.HOUQIN_CONFIG || defaultConfigPath());
  const site = pickSite(settings, id);
  const houqin = createHouqin(settings, createLogger(env.LOG_LEVEL || 'warn', process.stderr));
  const scheduler = houqin.sites.find((s) => s.id === site.id)!.scheduler;
  try {
    if (sub === 'list') {
      const fmt = new Intl.DateTimeFormat('zh-CN', {
        timeZone: site.config.org.timezone,
        dateStyle: 'short',
        timeStyle: 'short',
        hour12: false,
      });
      for (const j of scheduler.list()) {
        const next = j.enabled ? (j.next ? fmt.format(new Date(j.next)) : '—') : '已停用';
        out.write(
          `${j.name.padEnd(28)} ${j.schedule.padEnd(18)} ${(j.everyDay ? '每天' : '上学日').padEnd(4)} 下次 ${next}  ${j.title}\n`,
        );
      }
      return 0;
    }
    await scheduler.runNow(name!, date);
    out.write(`ran ${name}${date ? ` as of ${date}` : ''}; its messages are queued\n`);
    return 0;
  } finally {
    await houqin.stop();
  }
}
