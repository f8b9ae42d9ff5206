// The district's own view over real Redis: three sites of a district folder, each with its own keys (the hash-tagged
// prefix of store/layout.ts) and its own SLA targets, seeded through the real stores (TaskStore's scripts write the
// daily stats as in production; ChecklistStore, MealStore). Then the weekly 区域汇总 has each site's figures exactly,
// site A's work never shows in site B's row or sheet, the text and chart are right, the messages go to the bureau's
// people, and `houqin export --district` writes the workbook (read back with exceljs) — or refuses a single file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTenants, type Tenants } from '../../src/config/tenants.js';
import type { ChecklistSheet } from '../../src/domain/records.js';
import { transitions } from '../../src/domain/tasks/task.js';
import { districtTotals, weekOf } from '../../src/domain/district/figures.js';
import {
  composeDistrictSummary,
  type DistrictSite,
  districtRecipients,
  districtSites,
  readDistrict,
  sendDistrictSummary,
} from '../../src/domain/district/service.js';
import { exportDistrict } from '../../src/ledger/district.js';
import { exportCommand } from '../../src/cli/export.js';
import { ChecklistStore } from '../../src/store/checklists.js';
import { MealStore } from '../../src/store/meals.js';
import { targetsOf } from '../../src/store/stats.js';
import { TaskStore } from '../../src/store/tasks.js';
import { createLogger } from '../../src/log.js';
import { dropPrefix, keysMatching, REDIS_URL, redisClient, testPrefix } from '../helpers/redis.js';
import { removeSiteFolders, siteFolder, siteYaml } from '../helpers/site-files.js';

const base = testPrefix('district');
const t = (s: string) => Date.parse(`${s}+08:00`); // Shanghai wall-clock time
const WEEK = '2026-11-18'; // a Wednesday: the week is 11-16 (Mon) to 11-22 (Sun)
const NOW = t('2026-11-24T09:00:00'); // the Tuesday after
const LONG = '新华小学/附属幼儿园[东区]:托班*早教中心?联合体第一分部（筹）';

let redis: Redis;
let dir: string;
let tenants: Tenants;
let sites: DistrictSite[];
const source = { channel: 'wecom', surface: 'aibot', chatId: 'g1', chatType: 'group' as const };
const silent = createLogger('silent');

const withPrefix = (name: string, extra = '') => `${siteYaml(name, `redis: { keyPrefix: ${base} }\n${extra}`)}`;

function storeOf(id: string): TaskStore {
  const s = sites.find((x) => x.id === id)!;
  return new TaskStore(redis, s.prefix, { timezone: s.config.org.timezone, targets: targetsOf(s.config.sla) });
}

/** A task through the store's scripts: created, then each step as the service would record it. */
async function task(
  store: TaskStore,
  key: string,
  o: { text: string; at: string; kind?: string; urgent?: boolean },
  steps: { step: keyof typeof transitions; at: string; type: string; set?: Record<string, unknown>; rating?: number }[],
): Promise<number> {
  const { id } = await store.create(
    {
      kind: o.kind ?? 'repair',
      place: '小一班',
      text: o.text,
      reporter: 'wang',
      team: 'houqin',
      source,
      urgent: o.urgent ?? false,
      createdAt: t(o.at),
    },
    key,
  );
  for (const s of steps) {
    const at = t(s.at);
    const set: Record<string, unknown> = { ...s.set };
    if (s.step === 'claim') Object.assign(set, { assignee: 'wang', assignedBy: 'wang', acked: true, claimedAt: at });
    if (s.step === 'done') set.doneAt = at;
    if (s.step === 'rate') Object.assign(set, { rating: s.rating, acceptedAt: at });
    const r = await store.transition(
      id,
      {
        from: transitions[s.step].from,
        actor: 'wang',
        set: set as never,
        event: { at, by: 'wang', type: s.type, ...(s.rating ? { rating: s.rating } : {}) },
        ...(s.step === 'done' ? { incr: { doneCount: 1 } } : {}),
      },
      transitions[s.step].to,
    );
    expect(r.ok).toBe(true);
  }
  return id;
}

async function sheet(
  store: ChecklistStore,
  date: string,
  id: string,
  status: ChecklistSheet['status'],
  failed = false,
): Promise<void> {
  const s: ChecklistSheet = {
    id,
    template: id,
    title: '每日安全检查',
    responsible: 'wang',
    chat: 'manager',
    date,
    postedAt: t(`${date}T07:30:00`),
    status: 'open',
    items: [{ key: 'fire', label: '消防器材', type: 'yesno' }],
  };
  await store.create(s, `f-${date}-${id}`);
  if (status === 'open') return;
  await store.update(date, id, (x) => ({
    ...x,
    status,
    ...(status === 'done'
      ? {
          doneAt: t(`${date}T08:00:00`),
          items: [{ ...x.items[0], value: !failed, ok: !failed, by: 'wang', at: t(`${date}T08:00:00`) }],
        }
      : {}),
  }));
}

async function collect(run: (out: Writable) => Promise<unknown>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await run(out);
  return Buffer.concat(chunks);
}

async function open(buf: Buffer): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as never);
  return wb;
}

const values = (ws: ExcelJS.Worksheet, n: number) =>
  Array.from({ length: ws.columnCount }, (_, i) => {
    const v = ws.getRow(n).getCell(i + 1).value;
    return v === null || v === '' ? undefined : v;
  });

/** The data rows of a site sheet: below the title and header rows. */
const dataRows = (ws: ExcelJS.Worksheet) =>
  Array.from({ length: ws.rowCount - 2 }, (_, i) => values(ws, i + 3)).filter((r) => r.some((v) => v !== undefined));

beforeAll(async () => {
  redis = redisClient();
  dir = siteFolder({
    'yangguang.yaml': withPrefix('阳光幼儿园'),
    // 实验小学 finishes within 2 hours; the others within 24 (siteYaml): each site is judged by its own targets.
    'shiyan.yaml': withPrefix('实验小学').replace(
      'claimTarget: 30m, finishTarget: 24h',
      'claimTarget: 30m, finishTarget: 2h',
    ),
    'xinhua.yaml': withPrefix(`"${LONG}"`),
    'district.yaml': `name: 城关区教育局
people:
  - { name: 李科长, wecom: li_kezhang, roles: [district] }
  - { name: 赵老师, dingtalk: "0123", roles: [district] }
  - { name: 无账号, roles: [district] }
sites: [yangguang, shiyan, xinhua]
`,
  });
  tenants = loadTenants({}, dir);
  sites = districtSites(tenants);

  // ── 阳光幼儿园 ──────────────────────────────────────────────────────────────────────────────────────────────
  const a = storeOf('yangguang');
  await task(a, 'a1', { text: 'A-水龙头漏水', at: '2026-11-16T08:00:00' }, [
    { step: 'claim', at: '2026-11-16T08:10:00', type: 'claimed' },
    { step: 'done', at: '2026-11-16T09:10:00', type: 'done' }, // 70 min: in target (24 h)
    { step: 'rate', at: '2026-11-16T10:00:00', type: 'rated', rating: 5 },
  ]);
  await task(a, 'a2', { text: 'A-门锁坏了', at: '2026-11-17T08:00:00' }, [
    { step: 'claim', at: '2026-11-17T08:20:00', type: 'claimed' },
    { step: 'done', at: '2026-11-19T10:00:00', type: 'done' }, // 50 h: late
  ]);
  await task(a, 'a3', { text: 'A-走廊有积水', at: '2026-11-18T09:00:00', kind: 'cleaning' }, []); // never claimed
  await task(a, 'a4', { text: 'A-电闸跳闸', at: '2026-11-20T10:00:00', urgent: true }, [
    { step: 'claim', at: '2026-11-20T10:05:00', type: 'claimed' }, // urgent, unfinished after 4 h
  ]);
  await task(a, 'a5', { text: 'A-上周的灯管', at: '2026-11-15T16:00:00' }, []); // the week before: open, overdue
  await task(a, 'a6', { text: 'A-今天的椅子', at: '2026-11-24T08:00:00' }, [
    { step: 'claim', at: '2026-11-24T08:05:00', type: 'claimed' }, // after the week; within target now
  ]);
  const ac = new ChecklistStore(redis, sites[0].prefix);
  await sheet(ac, '2026-11-16', 'safety', 'done');
  await sheet(ac, '2026-11-17', 'safety', 'missed');
  await sheet(ac, '2026-11-18', 'safety', 'done', true);
  await sheet(ac, '2026-11-23', 'safety', 'missed'); // after the week
  const am = new MealStore(redis, sites[0].prefix);
  await am.add(
    '2026-11-16',
    { at: t('2026-11-16T12:30:00'), person: 'wang', meal: '午餐', rating: 4, urgent: false },
    'm1',
  );
  await am.add(
    '2026-11-17',
    { at: t('2026-11-17T12:30:00'), person: 'wang', meal: '午餐', rating: 1, text: '米饭太硬', urgent: false },
    'm2',
  );
  await am.add(
    '2026-11-18',
    {
      at: t('2026-11-18T12:30:00'),
      person: 'wang',
      meal: '午餐',
      rating: 2,
      text: '吃了肚子疼',
      urgent: true,
      task: 99,
    },
    'm3',
  );
  await am.add(
    '2026-11-15',
    { at: t('2026-11-15T12:30:00'), person: 'wang', meal: '午餐', rating: 1, text: '上周的', urgent: true },
    'm0',
  );

  // ── 实验小学: same task numbers as 阳光 (each site counts from 1), its own targets ───────────────────────────
  const b = storeOf('shiyan');
  await task(b, 'b1', { text: 'B-黑板松动', at: '2026-11-16T09:00:00' }, [
    { step: 'claim', at: '2026-11-16T09:05:00', type: 'claimed' },
    { step: 'done', at: '2026-11-16T12:00:00', type: 'done' }, // 3 h: late here (2 h), in target at 阳光
  ]);
  await task(b, 'b2', { text: 'B-窗户关不上', at: '2026-11-17T09:00:00' }, [
    { step: 'claim', at: '2026-11-17T09:10:00', type: 'claimed' },
    { step: 'done', at: '2026-11-17T10:00:00', type: 'done' },
    { step: 'rate', at: '2026-11-17T11:00:00', type: 'rated', rating: 4 },
  ]);
  await sheet(new ChecklistStore(redis, sites[1].prefix), '2026-11-19', 'safety', 'done');
  await new MealStore(redis, sites[1].prefix).add(
    '2026-11-19',
    { at: t('2026-11-19T12:30:00'), person: 'wang', meal: '午餐', rating: 5, urgent: false },
    'm1', // the same source id as 阳光's first rating: each site dedupes its own
  );
  // 新华: nothing this week.
});

afterAll(async () => {
  await dropPrefix(redis, base);
  redis.disconnect();
  removeSiteFolders();
});

describe('the district folder', () => {
  it('gives each site its own hash-tagged keys', async () => {
    expect(sites.map((s) => [s.id, s.prefix])).toEqual([
      ['yangguang', `${base}:{t:yangguang}`],
      ['shiyan', `${base}:{t:shiyan}`],
      ['xinhua', `${base}:{t:xinhua}`],
    ]);
    const keys = await keysMatching(redis, `${base}:*`);
    expect(keys.every((k) => k.startsWith(`${base}:{t:yangguang}:`) || k.startsWith(`${base}:{t:shiyan}:`))).toBe(true);
  });
});

describe('the week’s figures', () => {
  it('are each site’s own, exactly', async () => {
    const f = await readDistrict(redis, '城关区教育局', sites, weekOf(WEEK), NOW);
    const [a, b, c] = f.sites;
    expect(a).toEqual({
      id: 'yangguang',
      name: '阳光幼儿园',
      timezone: 'Asia/Shanghai',
      reported: 4,
      urgent: 1,
      cancelled: 0,
      finished: 2,
      finishedLate: 1,
      inTarget: 1,
      open: 4, // a3, a4, a5 and today's a6
      overdue: 3, // a3 (unclaimed), a4 (urgent, unfinished), a5 (last week's)
      uncounted: 0,
      checklists: 3,
      checklistsDone: 2,
      missed: 1,
      withFailures: 1,
      meals: 3,
      foodSafety: 1,
      mealComplaints: 2,
      mealRated: 3,
      mealRatingSum: 7,
      ratings: 1,
      ratingSum: 5,
    });
    expect(b).toMatchObject({
      id: 'shiyan',
      name: '实验小学',
      reported: 2,
      urgent: 0,
      finished: 2,
      finishedLate: 1, // 3 h against 实验小学's 2 h
      inTarget: 1,
      open: 0,
      overdue: 0,
      checklists: 1,
      checklistsDone: 1,
      missed: 0,
      meals: 1,
      foodSafety: 0,
      mealComplaints: 0,
      mealRated: 1,
      mealRatingSum: 5,
      ratings: 1,
      ratingSum: 4,
    });
    expect(c).toMatchObject({
      id: 'xinhua',
      name: LONG,
      reported: 0,
      finished: 0,
      overdue: 0,
      checklists: 0,
      meals: 0,
    });
    expect(f.totals).toEqual(districtTotals(f.sites));
    expect(f.totals).toMatchObject({ reported: 6, finished: 4, inTarget: 2, overdue: 3, missed: 1, foodSafety: 1 });
  });

  it('count open work as it is at the moment they are made', async () => {
    const early = await readDistrict(redis, '城关区教育局', sites, weekOf(WEEK), t('2026-11-18T09:20:00'));
    // Wednesday 09:20: a3 was reported 20 minutes ago (claim target 30 min); only a5 was overdue then.
    expect(early.sites[0]).toMatchObject({ reported: 4, overdue: 1 });
  });
});

describe('the weekly 区域汇总', () => {
  it('reads as a phone text, worst site first', async () => {
    const s = await composeDistrictSummary(redis, '城关区教育局', sites, { week: WEEK, now: NOW, font: null });
    expect(s.span).toMatchObject({ from: '2026-11-16', to: '2026-11-22' });
    expect(s.markdown).toBe(`**城关区教育局 区域汇总 11月16日–11月22日**
3 个单位 · 1 个需关注
工单 6 · 完工 4 · 按时 50%（2/4）
超时在办 3 · 漏检 1/4 · 食安投诉 1 🔴
餐评 3.0 分（4） · 工单评价 4.5 分（2）

**需关注**（超时、漏检、食安投诉多者在前）
1. 阳光幼儿园　超时 3 · 漏检 1 · 🔴食安 1
> 工单 4 · 按时 50%（1/2） · 餐评 2.3 · 评价 5.0

**正常**
2. 实验小学　工单 2 · 按时 50%（1/2） · 餐评 5.0 · 评价 4.0
3. ${LONG}　工单 0 · 按时 — · 餐评 — · 评价 —

超时在办：截至 11月24日 09:00 仍未接单或未完工、已过目标时限的工单`);
  });

  it('has a chart, a PNG', async () => {
    const s = await composeDistrictSummary(redis, '城关区教育局', sites, { week: WEEK, now: NOW, font: null });
    const png = Buffer.from(s.image!.png, 'base64');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(900); // IHDR width
    expect(s.image!.alt).toBe('区域汇总图表：11月16日–11月22日 各单位按时完工率与超时在办');
  });

  it('by default sums up the last whole week before today (Monday morning: the week just ended)', async () => {
    const s = await composeDistrictSummary(redis, '城关区教育局', sites, { now: t('2026-11-23T08:00:00'), font: null });
    expect(s.span).toMatchObject({ from: '2026-11-16', to: '2026-11-22' });
  });

  it('goes to the bureau’s people as the site digests go to a director: text, then the chart', async () => {
    expect(districtRecipients(tenants.district!)).toEqual([
      { id: 'district:wecom:li_kezhang', name: '李科长', wecom: 'li_kezhang' },
      { id: 'district:dingtalk:0123', name: '赵老师', dingtalk: '0123' },
    ]);
    const out = await sendDistrictSummary({ redis, tenants, log: silent }, { week: WEEK, now: NOW, font: null });
    expect(out.messages.map((m) => [m.to, m.message.type])).toEqual([
      [{ kind: 'user', person: 'district:wecom:li_kezhang' }, 'markdown'],
      [{ kind: 'user', person: 'district:wecom:li_kezhang' }, 'image'],
      [{ kind: 'user', person: 'district:dingtalk:0123' }, 'markdown'],
      [{ kind: 'user', person: 'district:dingtalk:0123' }, 'image'],
    ]);
    const md = out.messages[0].message;
    expect(md.type === 'markdown' && md.text.startsWith('**城关区教育局 区域汇总 11月16日–11月22日**')).toBe(true);
  });

  it('sends nothing without a district.yaml', async () => {
    const out = await sendDistrictSummary({ redis, tenants: { sites: tenants.sites }, log: silent }, { now: NOW });
    expect(out.messages).toEqual([]);
  });
});

describe('the district workbook', () => {
  let wb: ExcelJS.Workbook;
  beforeAll(async () => {
    const buf = await collect((out) =>
      exportDistrict({ redis, name: '城关区教育局', sites, now: NOW }, { week: WEEK }, out),
    );
    wb = await open(buf);
  });

  it('has 区域汇总 first, then a sheet per site with a name Excel takes', () => {
    const names = wb.worksheets.map((w) => w.name);
    expect(names.slice(0, 3)).toEqual(['区域汇总', '阳光幼儿园', '实验小学']);
    expect(names).toHaveLength(4);
    expect(names[3]).toBe('新华小学·附属幼儿园·东区··托班·早教中心·联合体第一分部');
    expect(Array.from(names[3]).length).toBeLessThanOrEqual(31);
  });

  it('区域汇总: one row per site, worst first, and the totals', () => {
    const ws = wb.getWorksheet('区域汇总')!;
    expect(values(ws, 1)[0]).toBe('城关区教育局 区域汇总（2026年11月16日–11月22日）');
    expect(values(ws, 2)).toEqual([
      '排名',
      '单位',
      '站点编号',
      '工单',
      '紧急',
      '完工',
      '按时完工',
      '按时完工率',
      '当前在办',
      '当前超时',
      '检查表',
      '已完成',
      '漏检',
      '有异常',
      '膳食反馈',
      '食品安全投诉',
      '低分或食安意见',
      '餐评数',
      '餐评平均分',
      '工单评价数',
      '工单评价平均分',
    ]);
    const u = undefined;
    expect(values(ws, 3)).toEqual([
      1,
      '阳光幼儿园',
      'yangguang',
      4,
      1,
      2,
      1,
      0.5,
      4,
      3,
      3,
      2,
      1,
      1,
      3,
      1,
      2,
      3,
      7 / 3,
      1,
      5,
    ]);
    expect(values(ws, 4)).toEqual([2, '实验小学', 'shiyan', 2, 0, 2, 1, 0.5, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1, 5, 1, 4]);
    expect(values(ws, 5)).toEqual([3, LONG, 'xinhua', 0, 0, 0, 0, u, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, u, 0, u]);
    expect(values(ws, 6)).toEqual(['合计', '3 个单位', u, 6, 1, 4, 2, 0.5, 4, 3, 4, 3, 1, 1, 4, 1, 2, 4, 3, 2, 4.5]);
    expect(ws.getRow(6).getCell(4).font?.bold).toBe(true);
    expect(ws.getRow(3).getCell(8).numFmt).toBe('0%');
    expect(String(values(ws, 8)[0])).toContain('导出时（2026-11-24 09:00）');
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 2 });
  });

  it('a site’s sheet holds its own tasks of the week, never another site’s', () => {
    const a = dataRows(wb.getWorksheet('阳光幼儿园')!);
    const b = dataRows(wb.getWorksheet('实验小学')!);
    const c = dataRows(wb.getWorksheet(wb.worksheets[3].name)!);
    expect(a.map((r) => [r[0], r[5], r[11]])).toEqual([
      [1, 'A-水龙头漏水', '已验收'],
      [2, 'A-门锁坏了', '待验收'],
      [3, 'A-走廊有积水', '待接单'],
      [4, 'A-电闸跳闸', '处理中'],
    ]);
    expect(b.map((r) => [r[0], r[5], r[11]])).toEqual([
      [1, 'B-黑板松动', '待验收'],
      [2, 'B-窗户关不上', '已验收'],
    ]);
    expect(c).toEqual([]);
    expect(JSON.stringify(b)).not.toContain('A-');
    expect(JSON.stringify(a)).not.toContain('B-');
    // The site ledger's columns, times as Shanghai wall-clock dates.
    const ws = wb.getWorksheet('阳光幼儿园')!;
    expect(values(ws, 1)[0]).toBe('阳光幼儿园（yangguang）后勤工单（2026年11月16日–11月22日）');
    expect(values(ws, 2).slice(0, 6)).toEqual(['工单号', '类别', '专业', '紧急', '地点', '问题描述']);
    expect((a[0][12] as Date).toISOString()).toBe('2026-11-16T08:00:00.000Z');
    expect(a[3][3]).toBe('是');
    expect(a[0][19]).toBe(5);
  });

  it('a month holds the same weeks’ tasks and the month’s figures', async () => {
    const m = await open(
      await collect((out) =>
        exportDistrict({ redis, name: '城关区教育局', sites, now: NOW }, { month: '2026-11' }, out),
      ),
    );
    const ws = m.getWorksheet('区域汇总')!;
    expect(values(ws, 1)[0]).toBe('城关区教育局 区域汇总（2026年11月）');
    // 阳光 in November: a1–a6 reported (a5 on the 15th, a6 on the 24th), the 23rd's missed sheet, the 15th's complaint.
    expect(values(ws, 3).slice(0, 4)).toEqual([1, '阳光幼儿园', 'yangguang', 6]);
    expect(values(ws, 3)[12]).toBe(2); // 漏检
    expect(values(ws, 3)[15]).toBe(2); // 食品安全投诉
    expect(dataRows(m.getWorksheet('阳光幼儿园')!).map((r) => r[5])).toEqual([
      'A-上周的灯管',
      'A-水龙头漏水',
      'A-门锁坏了',
      'A-走廊有积水',
      'A-电闸跳闸',
      'A-今天的椅子',
    ]);
  });
});

describe('houqin export --district', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'houqin-district-cli-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const env = () => ({ HOUQIN_CONFIG: dir, REDIS_URL });
  const errText = () => {
    const err = new PassThrough();
    let text = '';
    err.on('data', (c: Buffer) => (text += c.toString()));
    return { err, text: () => text };
  };

  it('writes the workbook of the week holding a day', async () => {
    const file = join(tmp, 'week.xlsx');
    const e = errText();
    expect(await exportCommand(['--district', '--week', WEEK, '--out', file], env(), e.err)).toBe(0);
    expect(e.text()).toMatch(
      /^district workbook written to .*week\.xlsx: 3 sites, 6 tasks, 2026-11-16 to 2026-11-22; sheets: 区域汇总, 阳光幼儿园, 实验小学, 新华小学/,
    );
    const wb = await open(readFileSync(file));
    expect(wb.worksheets.map((w) => w.name).slice(0, 3)).toEqual(['区域汇总', '阳光幼儿园', '实验小学']);
    const ws = wb.getWorksheet('区域汇总')!;
    expect(values(ws, 3).slice(1, 4)).toEqual(['阳光幼儿园', 'yangguang', 4]);
    expect(values(ws, 6).slice(0, 4)).toEqual(['合计', '3 个单位', undefined, 6]);
    expect(dataRows(wb.getWorksheet('实验小学')!).map((r) => r[5])).toEqual(['B-黑板松动', 'B-窗户关不上']);
  });

  it('takes --month too, with a default file name', async () => {
    const e = errText();
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      expect(await exportCommand(['--district', '--month=2026-11'], env(), e.err)).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    expect(e.text()).toContain('houqin-district-2026-11.xlsx: 3 sites, 8 tasks, 2026-11-01 to 2026-11-30');
    const wb = await open(readFileSync(join(tmp, 'houqin-district-2026-11.xlsx')));
    expect(wb.worksheets).toHaveLength(4);
  });

  it('refuses a single config file, in English, with exit code 2', async () => {
    const e = errText();
    const code = await exportCommand(
      ['--district', '--week', WEEK, '--out', join(tmp, 'no.xlsx')],
      { HOUQIN_CONFIG: 'config/example.yaml', REDIS_URL },
      e.err,
    );
    expect(code).toBe(2);
    expect(e.text()).toContain(
      '--district needs HOUQIN_CONFIG to name a district folder (one <site>.yaml per site, docs/configuration.md "A district"); config/example.yaml is a single file, one site',
    );
  });

  it('needs one period, and --week only with --district', async () => {
    const e = errText();
    expect(await exportCommand(['--district'], env(), e.err)).toBe(2);
    expect(await exportCommand(['--district', '--month', '2026-11', '--week', WEEK], env(), e.err)).toBe(2);
    expect(await exportCommand(['--district', '--week', '2026-13-45'], env(), e.err)).toBe(2);
    expect(await exportCommand(['--week', WEEK], env(), e.err)).toBe(2);
    expect(e.text()).toContain('--district needs one of --month YYYY-MM or --week YYYY-MM-DD');
    expect(e.text()).toContain('week must be a date, YYYY-MM-DD, got "2026-13-45"');
    expect(e.text()).toContain('--week works with --district only');
  });
});
