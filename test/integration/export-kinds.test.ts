// The ledger of the example hospital: its own kinds of work (运送, 医废收运) appear under their configured names in the
// 类别 column of the 工单 sheet, next to the built-in 报修; and one sheet per checklist template, the kg of the
// 医疗废物交接 included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';
import { parseConfig } from '../../src/config/load.js';
import { readFileSync } from 'node:fs';
import { Roster } from '../../src/domain/roster.js';
import { TaskStore } from '../../src/store/tasks.js';
import { exportMonth } from '../../src/ledger/export.js';

const prefix = testPrefix('ledger-hospital');
const t = (s: string) => Date.parse(`${s}+08:00`);
let redis: Redis;
let wb: ExcelJS.Workbook;

beforeAll(async () => {
  const config = parseConfig(readFileSync('config/example-hospital.yaml', 'utf8'), {}).config;
  redis = redisClient();
  const store = new TaskStore(redis, prefix, { timezone: config.org.timezone });
  const source = { channel: 'local', surface: 'console', chatId: 'ward_5', chatType: 'group' as const };
  const make = (key: string, kind: string, team: string, text: string, at: string) =>
    store.create(
      { kind, place: '5病区', text, reporter: 'li_jing', team, source, urgent: false, createdAt: t(at) },
      `hospital-${key}`,
    );
  await make('bell', 'repair', 'shebei', '5病区12床呼叫器不响了', '2026-11-03T09:00:00');
  await make('porter', 'porter', 'yunsong', '5病区3床 去CT室', '2026-11-03T10:00:00');
  await make('waste', 'medical_waste', 'yifei', '5病区有两箱医疗废物要收', '2026-11-03T11:00:00');
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await exportMonth({ redis, tasks: store, config, roster: new Roster(config) }, '2026-11', out);
  wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.concat(chunks) as never);
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('the hospital ledger', () => {
  it('names each task’s kind as the config does', () => {
    const ws = wb.getWorksheet('工单')!;
    const headers = ws.getRow(2).values as unknown[];
    const col = headers.indexOf('类别');
    const team = headers.indexOf('班组');
    const rows = [3, 4, 5].map((r) => [ws.getRow(r).getCell(col).value, ws.getRow(r).getCell(team).value]);
    expect(rows).toEqual([
      ['报修', '电梯设备组'],
      ['运送', '运送中心'],
      ['医废收运', '医废收运组'],
    ]);
  });

  it('has a sheet per checklist, the waste handover among them', () => {
    expect(wb.worksheets.map((w) => w.name).slice(0, 4)).toEqual([
      '病区安全巡查',
      '医疗废物交接',
      '空调与供氧设备巡检',
      '营养食堂卫生检查',
    ]);
  });
});
