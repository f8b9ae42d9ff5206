// The monthly ledger: a seeded month on real Redis is exported with the streaming writer, then opened with exceljs
// as an inspector's spreadsheet would be — sheet names, title and header rows, frozen panes, cells, dates in the
// school's time zone — and the same file comes from GET /admin/export behind the bearer token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough, type Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import ExcelJS from 'exceljs';
import Koa from 'koa';
import Router from '@koa/router';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';
import { loadSettings } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { Roster } from '../../src/domain/roster.js';
import { recordKeys, type ChecklistSheet, type MealFeedback } from '../../src/domain/records.js';
import { transitions } from '../../src/domain/tasks/task.js';
import { TaskStore, type NewTask } from '../../src/store/tasks.js';
import { exportMonth, type LedgerDeps } from '../../src/ledger/export.js';
import { mountExport } from '../../src/http/admin.js';

const prefix = testPrefix('ledger');
const t = (s: string) => Date.parse(`${s}+08:00`); // a Shanghai wall-clock time
let redis: Redis;
let config: Config;
let store: TaskStore;
let deps: LedgerDeps;
const ids: Record<string, number> = {};
const source = {
  channel: 'wecom',
  surface: 'aibot',
  chatId: 'wrkSFfCgAAxxxxxxxxxxxxxxxxxxxxxxxx',
  chatType: 'group' as const,
};

async function create(key: string, over: Partial<NewTask> & { createdAt: number }): Promise<number> {
  const { id } = await store.create(
    {
      kind: 'repair',
      trade: '水',
      place: '小一班',
      text: '小一班 水龙头漏水',
      reporter: 'wang_li',
      team: 'shuidian',
      source,
      urgent: false,
      ...over,
    },
    `ledger-${key}`,
  );
  ids[key] = id;
  return id;
}
const step = (
  id: number,
  s: keyof typeof transitions,
  actor: string,
  at: number,
  set: Record<string, unknown>,
  type: string,
  extra: Record<string, unknown> = {},
) =>
  store.transition(
    id,
    {
      from: transitions[s].from,
      actor,
      set: set as never,
      event: { at, by: actor, type, ...extra },
      ...(s === 'done' ? { incr: { doneCount: 1 } } : {}),
    },
    transitions[s].to,
  );

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

/** A row's cells as values, empty cells as undefined, as many as the sheet has columns. */
const row = (ws: ExcelJS.Worksheet, n: number) =>
  Array.from({ length: ws.columnCount }, (_, i) => {
    const v = ws.getRow(n).getCell(i + 1).value;
    return v === null || v === '' ? undefined : v;
  });

beforeAll(async () => {
  config = loadSettings({}, 'config/example.yaml').config;
  redis = redisClient();
  store = new TaskStore(redis, prefix, { timezone: config.org.timezone });
  deps = { redis, tasks: store, config, roster: new Roster(config) };

  await create('october', { createdAt: t('2026-10-31T23:30:00') }); // 15:30 UTC on the 31st: October in Shanghai
  const long = '小一班 水龙头一直在漏水，地上都湿了，小朋友差点滑倒，请尽快派师傅来修理一下，谢谢！';
  const a = await create('tap', { createdAt: t('2026-11-01T00:10:00'), text: long }); // 16:10 UTC on Oct 31: November here
  await step(
    a,
    'claim',
    'li_sf',
    t('2026-11-01T00:25:00'),
    { assignee: 'li_sf', assignedBy: 'li_sf', acked: true, claimedAt: t('2026-11-01T00:25:00') },
    'claimed',
  );
  await step(
    a,
    'done',
    'li_sf',
    t('2026-11-01T02:10:00'),
    { doneAt: t('2026-11-01T02:10:00'), note: '换了阀芯' },
    'done',
    { text: '换了阀芯' },
  );
  await step(
    a,
    'rate',
    'wang_li',
    t('2026-11-01T08:00:00'),
    { rating: 4, ratingText: '修得不错，就是有点慢', acceptedAt: t('2026-11-01T08:00:00') },
    'rated',
    { rating: 4, text: '修得不错，就是有点慢' },
  );
  const b = await create('chair', {
    createdAt: t('2026-11-30T23:59:00'),
    kind: 'repair',
    trade: '桌椅',
    place: '中二班',
    text: '椅子腿断了',
    reporter: 'li_na',
    team: 'mugong',
  });
  await step(
    b,
    'assign',
    'system',
    t('2026-12-01T00:59:00'),
    { assignee: 'zheng_sf', assignedBy: 'system', acked: false, claimedAt: t('2026-12-01T00:59:00') },
    'assigned',
    { to: 'zheng_sf' },
  );
  await create('december', { createdAt: t('2026-12-01T00:00:00') });

  const rk = recordKeys(prefix);
  const sheets: ChecklistSheet[] = [
    {
      id: 'safety',
      template: 'safety',
      title: '每日安全检查',
      responsible: 'chen_zr',
      chat: 'manager',
      date: '2026-11-02',
      postedAt: t('2026-11-02T07:30:00'),
      status: 'done',
      doneAt: t('2026-11-02T08:05:00'),
      items: [
        {
          key: 'doors',
          label: '门窗门锁',
          type: 'yesno',
          value: true,
          ok: true,
          by: 'chen_zr',
          at: t('2026-11-02T08:05:00'),
        },
        {
          key: 'fire',
          label: '消防器材与通道',
          type: 'yesno',
          value: false,
          ok: false,
          note: '灭火器压力不足',
          by: 'chen_zr',
          at: t('2026-11-02T08:05:00'),
          task: a,
        },
      ],
    },
    {
      id: 'disinfection.0',
      template: 'disinfection',
      title: '消毒记录（一洗二清三消毒）',
      area: '午睡室',
      responsible: 'he_ay',
      chat: 'team_baojie',
      date: '2026-11-02',
      postedAt: t('2026-11-02T14:00:00'),
      status: 'done',
      doneAt: t('2026-11-02T15:00:00'),
      items: [
        {
          key: 'chlorine',
          label: '含氯消毒液浓度',
          type: 'number',
          unit: 'mg/L',
          value: 300,
          ok: true,
          by: 'he_ay',
          at: t('2026-11-02T15:00:00'),
        },
      ],
    },
    {
      id: 'disinfection.1',
      template: 'disinfection',
      title: '消毒记录（一洗二清三消毒）',
      area: '玩具',
      responsible: 'ma_ay',
      chat: 'team_baojie',
      date: '2026-11-02',
      postedAt: t('2026-11-02T14:00:00'),
      status: 'missed',
      items: [{ key: 'chlorine', label: '含氯消毒液浓度', type: 'number', unit: 'mg/L' }],
    },
  ];
  for (const s of sheets) await redis.hset(rk.checklistDay(s.date), s.id, JSON.stringify(s));
  const meal: MealFeedback = {
    at: t('2026-11-02T12:50:00'),
    person: 'li_na',
    meal: '午餐',
    rating: 1,
    text: '汤里有头发',
    urgent: true,
    task: a,
    answer: { by: 'qian_sf', at: t('2026-11-02T13:30:00'), text: '已更换厨师帽，加强检查' },
  };
  await redis.rpush(rk.mealDay('2026-11-02'), JSON.stringify(meal));
  await redis.rpush(rk.mealDay('2026-10-31'), JSON.stringify({ ...meal, at: t('2026-10-31T12:00:00') }));
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('monthly ledger', () => {
  let wb: ExcelJS.Workbook;

  beforeAll(async () => {
    const buf = await collect((out) => exportMonth(deps, '2026-11', out));
    wb = await open(buf);
  });

  it('has one sheet per checklist template, then tasks, their history and meal feedback', () => {
    expect(wb.worksheets.map((w) => w.name)).toEqual([
      '每日安全检查',
      '消毒记录（一洗二清三消毒）',
      '晨检',
      '食堂卫生检查',
      '工单',
      '工单流转记录',
      '膳食反馈',
    ]);
    for (const ws of wb.worksheets) {
      expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 2 });
      expect(ws.getRow(2).font?.bold).toBe(true);
    }
  });

  it('a checklist sheet reads like the paper 记录表', () => {
    const ws = wb.getWorksheet('消毒记录（一洗二清三消毒）')!;
    expect(ws.getCell('A1').value).toBe('阳光幼儿园 消毒记录（一洗二清三消毒）记录表（2026年11月）');
    expect(row(ws, 2)).toEqual([
      '日期',
      '区域',
      '检查项目',
      '结果/数值',
      '单位',
      '标准',
      '判定',
      '检查人',
      '检查时间',
      '备注',
      '关联工单',
    ]);
    expect(row(ws, 3)).toEqual([
      new Date('2026-11-02T00:00:00Z'),
      '午睡室',
      '含氯消毒液浓度',
      300,
      'mg/L',
      '250–500 mg/L',
      '合格',
      '何阿姨',
      new Date('2026-11-02T15:00:00Z'),
      undefined,
      undefined,
    ]);
    expect(row(ws, 4).slice(0, 7)).toEqual([
      new Date('2026-11-02T00:00:00Z'),
      '玩具',
      '含氯消毒液浓度',
      '未检查',
      'mg/L',
      '250–500 mg/L',
      '漏检',
    ]);
    expect(ws.getCell('J4').value).toBe('漏检（责任人马阿姨）');
    expect(ws.getCell('A3').numFmt).toBe('yyyy-mm-dd');
    const safety = wb.getWorksheet('每日安全检查')!;
    expect(row(safety, 4)).toEqual([
      new Date('2026-11-02T00:00:00Z'),
      undefined,
      '消防器材与通道',
      '异常',
      undefined,
      undefined,
      '不合格',
      '陈主任',
      new Date('2026-11-02T08:05:00Z'),
      '灭火器压力不足',
      `#${ids.tap}`,
    ]);
    expect(wb.getWorksheet('晨检')!.rowCount).toBe(2); // a template without records this month: headers only
  });

  it('tasks created in the month (school time zone), with times as local dates and the history', () => {
    const ws = wb.getWorksheet('工单')!;
    const headers = row(ws, 2);
    expect(headers.slice(0, 6)).toEqual(['工单号', '类别', '专业', '紧急', '地点', '问题描述']);
    expect(headers.at(-1)).toBe('处理经过');
    expect(ws.rowCount).toBe(4); // #tap and #chair; not the October or December ones
    const cell = (r: number, h: string) => ws.getRow(r).getCell(headers.indexOf(h) + 1).value;
    expect(cell(3, '工单号')).toBe(ids.tap);
    expect(cell(3, '问题描述')).toBe(
      '小一班 水龙头一直在漏水，地上都湿了，小朋友差点滑倒，请尽快派师傅来修理一下，谢谢！',
    );
    expect(cell(3, '报修时间')).toEqual(new Date('2026-11-01T00:10:00Z'));
    expect(cell(3, '完工时间')).toEqual(new Date('2026-11-01T02:10:00Z'));
    expect(cell(3, '接单用时（分钟）')).toBe(15);
    expect(cell(3, '完工用时（小时）')).toBe(2);
    expect(cell(3, '状态')).toBe('已验收');
    expect(cell(3, '评分')).toBe(4);
    expect(cell(3, '评价')).toBe('修得不错，就是有点慢');
    expect(cell(3, '接单方式')).toBe('抢单');
    expect(cell(3, '来源')).toBe('企业微信群');
    expect(cell(3, '处理经过')).toBe(
      '11-01 00:10 王丽 报修\n00:25 李师傅 接单\n02:10 李师傅 完工：换了阀芯\n08:00 王丽 评价 4分：修得不错，就是有点慢',
    );
    expect(cell(4, '工单号')).toBe(ids.chair);
    expect(cell(4, '接单方式')).toBe('系统派单');
    expect(cell(4, '处理人')).toBe('郑师傅');
    expect(cell(4, '状态')).toBe('处理中');
    expect(ws.getColumn(headers.indexOf('报修时间') + 1).width).toBe(17);
  });

  it('one row per history entry; meal feedback with the canteen answer', () => {
    const ev = wb.getWorksheet('工单流转记录')!;
    expect(row(ev, 2)).toEqual(['工单号', '时间', '人员', '动作', '说明', '转给', '评分']);
    expect(ev.rowCount).toBe(2 + 4 + 2);
    expect(row(ev, 9 - 1)).toEqual([
      ids.chair,
      new Date('2026-12-01T00:59:00Z'),
      '系统',
      '派单',
      undefined,
      '郑师傅',
      undefined,
    ]);
    const meals = wb.getWorksheet('膳食反馈')!;
    expect(meals.rowCount).toBe(3);
    expect(row(meals, 3)).toEqual([
      new Date('2026-11-02T12:50:00Z'),
      '午餐',
      1,
      '汤里有头发',
      '李娜',
      '是',
      `#${ids.tap}`,
      '已更换厨师帽，加强检查',
      '钱师傅',
      new Date('2026-11-02T13:30:00Z'),
    ]);
  });

  it('tasks from before the created index are found too', async () => {
    await redis.zrem(store.createdKey, String(ids.tap));
    const wb2 = await open(await collect((out) => exportMonth(deps, '2026-11', out)));
    expect(wb2.getWorksheet('工单')!.rowCount).toBe(4);
    expect(await redis.zscore(store.createdKey, String(ids.tap))).not.toBeNull();
  });

  it('GET /admin/export streams the same workbook behind the bearer token', async () => {
    const app = new Koa();
    const router = new Router();
    mountExport(router, 'secret-token', (month, out) => exportMonth(deps, month, out));
    app.use(router.routes());
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/export`;
    try {
      expect((await fetch(`${url}?month=2026-11`)).status).toBe(401);
      expect((await fetch(`${url}?month=2026-11`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${url}?month=2026-13`, { headers: { authorization: 'Bearer secret-token' } })).status).toBe(
        400,
      );
      const res = await fetch(`${url}?month=2026-11`, { headers: { authorization: 'Bearer secret-token' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      expect(res.headers.get('content-disposition')).toContain('houqin-ledger-2026-11.xlsx');
      const got = await open(Buffer.from(await res.arrayBuffer()));
      expect(got.getWorksheet('工单')!.getCell('A3').value).toBe(ids.tap);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
