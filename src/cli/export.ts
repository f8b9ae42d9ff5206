// `houqin export --month 2026-11 [--out FILE.xlsx]` — the month's ledger (台账) as an Excel workbook: checklist
// record sheets, tasks with their history, meal feedback. `--out -` writes to stdout. Default file:
// houqin-ledger-<month>.xlsx in the current directory.
//
// `houqin export --district --month 2026-11 | --week 2026-11-18 [--out FILE.xlsx]` — a district folder's workbook
// (ledger/district.ts): 区域汇总, then a sheet per site. --week takes any day and exports the Monday-to-Sunday week
// holding it. Default file: houqin-district-<month>.xlsx or houqin-district-week-<monday>.xlsx.
import { createWriteStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { loadSettings, type Env } from '../config/load.js';
import { pickSite, siteOption } from './site-arg.js';
import { redisTopology } from '../config/redis-topology.js';
import { loadTenants } from '../config/tenants.js';
import { Roster } from '../domain/roster.js';
import { photoLink } from '../channels/local/photos.js';
import { districtSites } from '../domain/district/service.js';
import { exportDistrict, periodSpan, type DistrictPeriod } from '../ledger/district.js';
import { exportMonth } from '../ledger/export.js';
import { connect } from '../store/redis.js';
import { TaskStore } from '../store/tasks.js';
import { defaultConfigPath } from './paths.js';

const usage =
  'usage: houqin export --month YYYY-MM [--site ID] [--out FILE.xlsx | --out -]\n' +
  '       houqin export --district (--month YYYY-MM | --week YYYY-MM-DD) [--out FILE.xlsx | --out -]\n';

export async function exportCommand(
  all: string[],
  env: Env,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let month: string | undefined;
  let week: string | undefined;
  let file: string | undefined;
  let district = false;
  const { args, id } = siteOption(all);
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split('=', 2) as [string, string | undefined];
    if (flag === '--month' || flag === '-m') month = inline ?? args[++i];
    else if (flag === '--week' || flag === '-w') week = inline ?? args[++i];
    else if (flag === '--out' || flag === '-o') file = inline ?? args[++i];
    else if (flag === '--district' && inline === undefined) district = true;
    else {
      err.write(`unknown option "${args[i]}"\n${usage}`);
      return 2;
    }
  }
  if (district) return exportDistrictCommand({ month, week, file }, env, err);
  if (week !== undefined) {
    err.write(`--week works with --district only; a site's ledger is by month\n${usage}`);
    return 2;
  }
  if (!month || !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) {
    err.write(`--month YYYY-MM is required (got "${month ?? ''}")\n${usage}`);
    return 2;
  }
  file ??= `houqin-ledger-${month}.xlsx`;
  const settings = loadSettings(env, env.HOUQIN_CONFIG || defaultConfigPath());
  const site = pickSite(settings, id);
  const { config } = site;
  const redis = connect(settings.redis, { maxRetriesPerRequest: 2 });
  try {
    const tasks = new TaskStore(redis, settings.layout.site(site.id), { timezone: config.org.timezone });
    const out = file === '-' ? process.stdout : createWriteStream(file);
    const started = Date.now();
    // Photo cells link to the console's photo route at HOUQIN_PUBLIC_URL, as /admin/export's do.
    const photoUrl = photoLink(`${settings.publicUrl}${site.named ? `/t/${site.id}` : ''}`);
    const r = await exportMonth({ redis, tasks, config, roster: new Roster(config), photoUrl }, month, out);
    err.write(
      `${file === '-' ? 'ledger written to stdout' : `ledger written to ${file}`}: ${r.tasks} tasks, ${r.events} history entries, ${r.checklistRows} checklist rows, ${r.meals} meal ratings; sheets: ${r.sheets.join(', ')} (${Date.now() - started} ms)\n`,
    );
    return 0;
  } finally {
    redis.disconnect();
  }
}

async function exportDistrictCommand(
  o: { month?: string; week?: string; file?: string },
  env: Env,
  err: NodeJS.WritableStream,
): Promise<number> {
  if ((o.month === undefined) === (o.week === undefined)) {
    err.write(`--district needs one of --month YYYY-MM or --week YYYY-MM-DD\n${usage}`);
    return 2;
  }
  const period: DistrictPeriod = o.month !== undefined ? { month: o.month } : { week: o.week! };
  let span: ReturnType<typeof periodSpan>;
  try {
    span = periodSpan(period);
  } catch (e) {
    err.write(`${(e as Error).message}\n${usage}`);
    return 2;
  }
  const path = env.HOUQIN_CONFIG || defaultConfigPath();
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    err.write(
      `--district needs HOUQIN_CONFIG to name a district folder (one <site>.yaml per site, docs/configuration.md "A district"); ${path} is ${
        statSync(path, { throwIfNoEntry: false }) ? 'a single file, one site' : 'not there'
      }: use "houqin export --month YYYY-MM" for one site's ledger\n`,
    );
    return 2;
  }
  const tenants = loadTenants(env, path);
  const sites = districtSites(tenants);
  const name = tenants.district?.name ?? basename(path);
  const file =
    o.file ?? ('month' in period ? `houqin-district-${period.month}.xlsx` : `houqin-district-week-${span.from}.xlsx`);
  const redis = connect(redisTopology(env), { maxRetriesPerRequest: 2 });
  try {
    const out = file === '-' ? process.stdout : createWriteStream(file);
    const started = Date.now();
    const r = await exportDistrict({ redis, name, sites }, period, out);
    err.write(
      `${file === '-' ? 'district workbook written to stdout' : `district workbook written to ${file}`}: ${r.sites} sites, ${r.tasks} tasks, ${span.from} to ${span.to}; sheets: ${r.sheets.join(', ')} (${Date.now() - started} ms)\n`,
    );
    return 0;
  } finally {
    redis.disconnect();
  }
}
