// What nurses type, against the example hospital's config: its own kinds of work (运送, 医废收运) by command word and
// in plain words, a broken thing still a repair, bed numbers as where rather than what. Each row: input → the fields
// the parser must produce (a field set to undefined must be absent).
import { describe, expect, it } from 'vitest';
import { intentSchema, type Intent } from '../../src/commands/intent.js';
import { createParser } from '../../src/commands/parser.js';
import { parseConfig } from '../../src/config/load.js';
import { readFileSync } from 'node:fs';

const hospital = parseConfig(readFileSync('config/example-hospital.yaml', 'utf8'), {}).config;
const parser = createParser(hospital);
const kindergarten = createParser(parseConfig(readFileSync('config/example.yaml', 'utf8'), {}).config);

type Case = [input: string, expected: Partial<Intent>];

const cases: Case[] = [
  // 运送 by its command words
  [
    '运送 5病区3床 去CT室',
    { intent: 'report', kind: 'porter', trade: undefined, place: '5病区', urgent: false, text: '5病区3床 去CT室' },
  ],
  ['送检 4病区 3床血标本', { intent: 'report', kind: 'porter', place: '4病区', text: '4病区 3床血标本' }],
  ['紧急运送 ICU 病人去手术室', { intent: 'report', kind: 'porter', place: '重症监护室', urgent: true }],
  // … and in plain words, when nothing is broken
  ['5病区3床病人要去做CT 需要推床', { intent: 'report', kind: 'porter', place: '5病区', trade: undefined }],
  ['4病区 要个平车', { intent: 'report', kind: 'porter', place: '4病区' }],
  // 医废收运: the command needs only the place; plain words name the waste
  ['医废收运 5病区', { intent: 'report', kind: 'medical_waste', place: '5病区', text: '医废收运 5病区' }],
  ['医废收运 5病区 两桶', { intent: 'report', kind: 'medical_waste', place: '5病区', text: '5病区 两桶' }],
  ['5病区有两箱医疗废物要收', { intent: 'report', kind: 'medical_waste', place: '5病区', urgent: false }],
  ['6病区利器盒满了 来收一下', { intent: 'report', kind: 'medical_waste', place: '6病区' }],
  // a broken thing wins over the kind's words
  ['推床的轮子坏了', { intent: 'report', kind: 'repair', trade: '床' }],
  ['5病区的医疗废物桶坏了', { intent: 'report', kind: 'repair', place: '5病区' }],
  ['医废暂存间的门锁坏了', { intent: 'report', kind: 'repair', trade: '门窗', place: '医疗废物暂存间' }],
  // a mess in the waste room is still the cleaners' (the room's name holds 医废, not a waste word)
  ['医废暂存间地上有血', { intent: 'report', kind: 'cleaning', place: '医疗废物暂存间' }],
  // the bed number says where; the call bell is what is broken
  ['5病区12床呼叫器不响了', { intent: 'report', kind: 'repair', trade: '医疗设备', place: '5病区' }],
  ['5病区3床的呼叫器坏了', { intent: 'report', kind: 'repair', trade: '医疗设备', place: '5病区' }],
  ['ICU空调不制冷', { intent: 'report', kind: 'repair', trade: '空调', place: '重症监护室' }],
  ['3号电梯困人了', { intent: 'report', kind: 'repair', trade: '电梯', urgent: true }],
  // a form with the kind as its type
  [
    '类型：运送\n地点：5病区\n内容：3床去B超室',
    { intent: 'report', kind: 'porter', place: '5病区', text: '3床去B超室' },
  ],
  // chatter about the teams stays chatter
  ['运送师傅辛苦了', { intent: 'none' }],
  ['谢谢运送中心', { intent: 'none' }],
  // a command word with nothing after it asks where
  ['运送', { intent: 'report', kind: 'porter', invalid: true, error: '请写清地点，例如：运送 3病区' }],
  ['医废收运', { intent: 'report', kind: 'medical_waste', invalid: true, error: '请写清地点，例如：医废收运 3病区' }],
];

describe('parser with the example hospital', () => {
  it.each(cases)('%s', (input, expected) => {
    const got = parser.parse(input, { roles: ['nurse'] });
    for (const [k, v] of Object.entries(expected)) expect(got[k as keyof Intent], k).toEqual(v);
    expect(intentSchema.parse(got)).toEqual(got);
  });

  it('a worker still claims and finishes by number', () => {
    expect(parser.parse('接单 12', { roles: ['worker'] })).toEqual({ intent: 'claim', task: 12 });
    expect(parser.parse('完工 12 已送到CT室', { roles: ['worker'] })).toMatchObject({ intent: 'done', task: 12 });
  });

  it('the kindergarten, without kinds:, knows no 运送', () => {
    for (const text of ['运送 小一班 桌子', '大门口有医疗废物'])
      expect(kindergarten.parse(text, { roles: ['teacher'] }).kind ?? 'none').not.toMatch(/porter|medical_waste/);
  });
});
