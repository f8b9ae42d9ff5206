// The district's own view (issue 15): reads every site of a district folder through the digest's reader
// (RedisDigestSource over the site's own keys), computes the per-site figures with the site digest's functions, and
// makes the weekly 区域汇总 for the bureau: text, chart, and the messages to its people. The Excel workbook
// (`houqin export --district`, ledger/district.ts) reads the same figures through readDistrict.
//
// Scheduling is not here: a weekly job calls sendDistrictSummary and queues the Outcome, as the site digest jobs do.
import type { Redis } from 'ioredis';
import type { District } from '../../config/district.js';
import type { Config } from '../../config/schema.js';
import type { Tenants } from '../../config/tenants.js';
import type { Logger } from '../../log.js';
import { layout } from '../../store/layout.js';
import { type DigestSource, dayOf, RedisDigestSource, targetsOf } from '../../store/stats.js';
import { TaskStore } from '../../store/tasks.js';
import { type ChartFont, chartFont } from '../digest/chart.js';
import { checklistFigures, mealFigures, openWork, type Span, totals } from '../digest/figures.js';
import { splitMessage } from '../digest/render.js';
import { digestOptions } from '../digest/service.js';
import type { Message } from '../messages.js';
import { Outcome } from '../outcome.js';
import { Roster } from '../roster.js';
import { districtChartPng } from './chart.js';
import { districtTimezone, districtTotals, lastWeek, type SiteFigures, siteFigures, weekOf } from './figures.js';
import { type DistrictFigures, renderDistrict, spanText, summaryTitle } from './render.js';

/** One site of the district, and where its keys are. */
export interface DistrictSite {
  /** Tenant id. */
  id: string;
  config: Config;
  /** The prefix of its Redis keys: layout({ base: config.redis.keyPrefix, tagged: true }).site(id). */
  prefix: string;
}

/** A district site's key prefix: its hash-tagged place under its config's redis.keyPrefix (store/layout.ts). */
export const sitePrefix = (id: string, config: Config): string =>
  layout({ base: config.redis.keyPrefix, tagged: true }).site(id);

/** The sites the district oversees (district.yaml's `sites`, else every site of the folder), in that order. */
export function districtSites(tenants: Tenants): DistrictSite[] {
  const ids = tenants.district?.sites ?? [...tenants.sites.keys()];
  return ids.flatMap((id) => {
    const site = tenants.sites.get(id);
    return site ? [{ id, config: site.config, prefix: sitePrefix(id, site.config) }] : [];
  });
}

/** The digest's reader over one site's keys (what digestsFor builds for a one-site install). */
export function siteSource(redis: Redis, site: DistrictSite): DigestSource {
  const tasks = new TaskStore(redis, site.prefix, {
    timezone: site.config.org.timezone,
    targets: targetsOf(site.config.sla),
  });
  return new RedisDigestSource(redis, site.prefix, tasks);
}

export interface ReadOptions {
  /** Open tasks read per site at most (oldest first); the rest are counted as uncounted. Default 5000, as the digest. */
  activeLimit?: number;
  /** Sites read at once. */
  concurrency?: number;
  /** A site's reader (default: RedisDigestSource over its keys). */
  source?: (site: DistrictSite) => DigestSource;
}

/**
 * One site's figures for `dates` (its own calendar dates), open work as of `now`. Targets, kinds and the low meal
 * score come from the site's config exactly as its own digest takes them (digestOptions).
 */
export async function readSite(
  source: DigestSource,
  site: DistrictSite,
  dates: string[],
  now: number,
  activeLimit = 5000,
): Promise<SiteFigures> {
  const opts = digestOptions(site.config, new Roster(site.config));
  const kinds = (opts.kinds ?? []).map((k) => k.id);
  const [days, active, sheets, feedback] = await Promise.all([
    source.days(dates),
    source.active(activeLimit),
    source.checklists(dates),
    source.meals(dates),
  ]);
  return siteFigures(
    { id: site.id, name: site.config.org.name, timezone: site.config.org.timezone },
    totals(
      dates.map((d) => days.get(d) ?? {}),
      kinds,
    ),
    openWork(active.tasks, active.total, opts.targets, now, 0, kinds),
    checklistFigures(sheets),
    mealFigures(feedback, opts.lowRating, 0),
    feedback,
  );
}

/** Every site's figures for the span, in the order given, and the district's totals. */
export async function readDistrict(
  redis: Redis,
  name: string,
  sites: readonly DistrictSite[],
  span: Span,
  now: number,
  o: ReadOptions = {},
): Promise<DistrictFigures> {
  const source = o.source ?? ((s: DistrictSite) => siteSource(redis, s));
  const out: SiteFigures[] = new Array(sites.length);
  let next = 0;
  // A few sites at a time: each read is a handful of pipelines, and 500 sites at once would queue them all.
  const worker = async () => {
    for (let i = next++; i < sites.length; i = next++)
      out[i] = await readSite(source(sites[i]), sites[i], span.dates, now, o.activeLimit);
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 8, sites.length) }, worker));
  const tz = districtTimezone(sites.map((s) => s.config.org.timezone));
  return {
    name,
    span,
    now,
    timezone: tz.timezone,
    mixedTimezones: tz.mixed,
    sites: out,
    totals: districtTotals(out),
  };
}

export interface DistrictSummary {
  span: Span;
  figures: DistrictFigures;
  markdown: string;
  /** The chart, as the platform-neutral image message; absent when it could not be drawn. */
  image?: Extract<Message, { type: 'image' }>;
}

export interface SummaryOptions {
  /** Any day of the week to sum up (Monday to Sunday); default the last whole week before `now`. */
  week?: string;
  now?: number;
  /** undefined: find a CJK font on this machine; null: draw the chart without text (digest/chart.ts). */
  font?: ChartFont | null;
  onChartError?: (e: Error) => void;
  read?: ReadOptions;
}

/** The week's figures, text and chart. A chart that cannot be drawn is left out, never the summary. */
export async function composeDistrictSummary(
  redis: Redis,
  name: string,
  sites: readonly DistrictSite[],
  o: SummaryOptions = {},
): Promise<DistrictSummary> {
  const now = o.now ?? Date.now();
  const { timezone } = districtTimezone(sites.map((s) => s.config.org.timezone));
  const span = o.week ? weekOf(o.week) : lastWeek(dayOf(now, timezone));
  const figures = await readDistrict(redis, name, sites, span, now, o.read);
  const markdown = renderDistrict(figures);
  try {
    const png = districtChartPng(
      { title: summaryTitle(figures), sites: figures.sites },
      o.font === undefined ? chartFont() : o.font,
    );
    const alt = `区域汇总图表：${spanText(span)} 各单位按时完工率与超时在办`;
    return { span, figures, markdown, image: { type: 'image', png: png.toString('base64'), alt } };
  } catch (e) {
    o.onChartError?.(e as Error);
    return { span, figures, markdown };
  }
}

/** A person of district.yaml who gets the summaries, with an id for Target { kind: 'user', person }. */
export interface DistrictRecipient {
  /** `district:wecom:<userid>`, or `district:dingtalk:<staffId>` for someone only on DingTalk. */
  id: string;
  name: string;
  wecom?: string;
  dingtalk?: string;
}

/**
 * The bureau's people with the role `district`. They are on no site's roster, so a message to them names them by a
 * district id made from their platform id (stable when district.yaml is reordered); the sender looks the ids up here.
 * Someone with neither id cannot be reached and is left out.
 */
export function districtRecipients(district: District): DistrictRecipient[] {
  return district.people
    .filter((p) => p.roles.includes('district') && (p.wecom || p.dingtalk))
    .map((p) => ({
      id: p.wecom ? `district:wecom:${p.wecom}` : `district:dingtalk:${p.dingtalk}`,
      name: p.name,
      ...(p.wecom ? { wecom: p.wecom } : {}),
      ...(p.dingtalk ? { dingtalk: p.dingtalk } : {}),
    }));
}

export interface DistrictSummaryContext {
  /** The Redis every site of the district lives on. */
  redis: Redis;
  /** loadTenants' answer for the district folder. */
  tenants: Tenants;
  log: Pick<Logger, 'info' | 'warn'>;
}

/**
 * The weekly 区域汇总 as messages to the bureau's people (role `district` in district.yaml): the text, split to fit
 * a WeCom message, then the chart, to each — the shape of the site digest's job (jobs/digest.ts sendDigest). Without
 * a district.yaml, or nobody to send to, the Outcome is empty and the log says why.
 */
export async function sendDistrictSummary(ctx: DistrictSummaryContext, o: SummaryOptions = {}): Promise<Outcome> {
  const out = new Outcome();
  const district = ctx.tenants.district;
  if (!district) {
    ctx.log.warn('no district.yaml in the folder: no 区域汇总 to send');
    return out;
  }
  const recipients = districtRecipients(district);
  if (!recipients.length) {
    ctx.log.warn(
      { district: district.name },
      'nobody in district.yaml has the role district and a wecom or dingtalk id: no 区域汇总 sent',
    );
    return out;
  }
  const sites = districtSites(ctx.tenants);
  const s = await composeDistrictSummary(ctx.redis, district.name, sites, {
    ...o,
    onChartError: (e) => {
      ctx.log.warn({ err: e.message }, 'district chart could not be drawn; sending the text only');
      o.onChartError?.(e);
    },
  });
  for (const r of recipients) {
    for (const part of splitMessage(s.markdown, 2000))
      out.send({ kind: 'user', person: r.id }, { type: 'markdown', text: part });
    if (s.image) out.send({ kind: 'user', person: r.id }, s.image);
  }
  ctx.log.info(
    {
      district: district.name,
      week: s.span.from,
      sites: sites.length,
      recipients: recipients.length,
      chart: !!s.image,
    },
    'district summary queued',
  );
  return out;
}
