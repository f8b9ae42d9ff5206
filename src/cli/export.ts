// `houqin export --month 2026-11 [--out FILE.xlsx]` — the month's ledger (台账) as an Excel workbook: checklist
// record sheets, tasks with their history, meal feedback. `--out -` writes to stdout. Default file:
// houqin-ledger-<month>.xlsx in the current directory.
import { createWriteStream } from 'node:fs';
import { loadSettings, type Env } from '../config/load.js';
import { Roster } from '../domain/roster.js';
import { photoLink } from '../channels/local/photos.js';
import { exportMonth } from '../ledger/export.js';
import { connect } from '../store/redis.js';
import { TaskStore } from '../store/tasks.js';
import { defaultConfigPath } from './paths.js';

const usage = 'usage: houqin export --month YYYY-MM [--out FILE.xlsx | --out -]\n';

export async function exportCommand(
  args: string[],
  env: Env,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let month: string | undefined;
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split('=', 2) as [string, string | undefined];
    if (flag === '--month' || flag === '-m') month = inline ?? args[++i];
    else if (flag === '--out' || flag === '-o') file = inline ?? args[++i];
    else {
      err.write(`unknown option "${args[i]}"\n${usage}`);
      return 2;
    }
  }
  if (!month || !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) {
    err.write(`--month YYYY-MM is required (got "${month ?? ''}")\n${usage}`);
    return 2;
  }
  file ??= `houqin-ledger-${month}.xlsx`;
  const settings = loadSettings(env, env.HOUQIN_CONFIG || defaultConfigPath());
  const { config } = settings;
  const redis = connect(settings.redis, { maxRetriesPerRequest: 2 });
  try {
    const tasks = new TaskStore(redis, config.redis.keyPrefix, { timezone: config.org.timezone });
    const out = file === '-' ? process.stdout : createWriteStream(file);
    const started = Date.now();
    // Photo cells link to the console's photo route at HOUQIN_PUBLIC_URL, as /admin/export's do.
    const photoUrl = photoLink(settings.publicUrl);
    const r = await exportMonth({ redis, tasks, config, roster: new Roster(config), photoUrl }, month, out);
    err.write(
      `${file === '-' ? 'ledger written to stdout' : `ledger written to ${file}`}: ${r.tasks} tasks, ${r.events} history entries, ${r.checklistRows} checklist rows, ${r.meals} meal ratings; sheets: ${r.sheets.join(', ')} (${Date.now() - started} ms)\n`,
    );
    return 0;
  } finally {
    redis.disconnect();
  }
}
