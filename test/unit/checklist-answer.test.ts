// The checklist answer parser on replies as people type them: one item or many, numbers with labels and units,
// 繁體 and full-width digits, "全部正常" with exceptions — and the messages it must leave to the command parser.
import { describe, expect, it } from 'vitest';
import { parseChecklistAnswer, type AnswerItem } from '../../src/commands/checklist-answer.js';

const yes = (label: string): AnswerItem => ({ label, type: 'yesno' });
const num = (label: string): AnswerItem => ({ label, type: 'number' });
const safety = ['门窗门锁', '电路插座', '消防器材与通道', '大型玩具', '燃气', '饮水设备'].map(yes);
const disinfection = [yes('清洗'), yes('清水冲净'), num('含氯消毒液浓度'), num('浸泡时间')];
const morning = [num('应到'), num('实到'), num('体温异常人数')];
const canteen = [yes('生熟分开'), yes('食品留样48小时'), yes('从业人员晨检'), num('冷藏温度')];
const mixed = [yes('地面清洁'), num('消毒液浓度'), yes('紫外线灯'), yes('滑梯')];
const withText = [yes('门窗'), { label: '备注', type: 'text' as const }];

const read = parseChecklistAnswer;
const ok = (index: number, note?: string) => ({ index, ok: true, ...(note ? { note } : {}) });
const bad = (index: number, note?: string) => ({ index, ok: false, ...(note ? { note } : {}) });
const n = (index: number, number: number, note?: string) => ({ index, number, ...(note ? { note } : {}) });

describe('checklist answers: the whole sheet at once', () => {
  it.each([
    '全部正常',
    '都正常',
    '一切正常',
    '均正常',
    '全部合格',
    '所有项目都正常',
    '都没问题',
    '正常',
    'OK',
    '全都好了',
    '全部正常。',
  ])('"%s" is all fine', (text) => {
    expect(read(text, safety)).toEqual({ allOk: true, answers: [], problems: [] });
  });

  it('繁體 and full-width are read the same', () => {
    expect(read('全部正常！', safety)!.allOk).toBe(true);
    expect(read('１ 正常 ２ 正常 ３ 異常 滅火器壓力不足', safety)!.answers).toEqual([
      ok(0),
      ok(1),
      bad(2, '灭火器压力不足'),
    ]);
    expect(read('３：異常，滅火器過期', safety)!.answers).toEqual([bad(2, '灭火器过期')]);
  });

  it('"全部正常" with exceptions, either way round', () => {
    expect(read('3 异常 灭火器压力不足，其余正常', safety)).toEqual({
      allOk: true,
      answers: [bad(2, '灭火器压力不足')],
      problems: [],
    });
    expect(read('3 异常 灭火器压力不足 其他都正常', safety)).toEqual({
      allOk: true,
      answers: [bad(2, '灭火器压力不足')],
      problems: [],
    });
    expect(read('全部正常，4 异常 滑梯松动', safety)).toEqual({
      allOk: true,
      answers: [bad(3, '滑梯松动')],
      problems: [],
    });
    expect(read('都正常，就是4号滑梯有点松', safety)).toEqual({
      allOk: true,
      answers: [bad(3, '滑梯有点松')],
      problems: [],
    });
    expect(read('全部正常 3 480 4 30', disinfection)).toEqual({
      allOk: true,
      answers: [n(2, 480), n(3, 30)],
      problems: [],
    });
  });
});

describe('checklist answers: item by item', () => {
  it.each([
    ['3 异常 灭火器压力不足', [bad(2, '灭火器压力不足')]],
    ['第3项异常，灭火器压力不足', [bad(2, '灭火器压力不足')]],
    ['3、异常：灭火器过期\n5 正常', [bad(2, '灭火器过期'), ok(4)]],
    ['3号 不合格 通道堆了杂物', [bad(2, '通道堆了杂物')]],
    ['1正常2正常3异常', [ok(0), ok(1), bad(2)]],
    ['1 √ 2 √ 3 ×', [ok(0), ok(1), bad(2)]],
    ['4 异常 滑梯松动 5 正常', [bad(3, '滑梯松动'), ok(4)]],
    ['2 坏了 插座松动', [bad(1, '插座松动')]],
    ['4 滑梯松动', [bad(3, '滑梯松动')]],
    ['三 异常 灭火器', [bad(2, '灭火器')]],
    ['燃气正常', [ok(4)]],
    ['消防器材与通道 异常 灭火器压力不足', [bad(2, '灭火器压力不足')]],
    ['3 异常 门窗坏了', [bad(2, '门窗坏了')]], // the explanation names a door; it does not answer item 1
    ['3 异常 有2个灭火器过期', [bad(2, '有2个灭火器过期')]],
    [
      '1 正常\n2 正常\n3 正常\n4 异常 秋千链条生锈\n5 正常\n6 正常',
      [ok(0), ok(1), ok(2), bad(3, '秋千链条生锈'), ok(4), ok(5)],
    ],
  ] as const)('"%s" (safety round)', (text, answers) => {
    expect(read(text, safety)).toEqual({ allOk: false, answers, problems: [] });
  });

  it.each([
    ['2 浓度 500', [n(2, 500)]], // numbered wrong: the label names the concentration, trust the label
    ['3 500', [n(2, 500)]],
    ['3 浓度 600mg/L', [n(2, 600)]],
    ['浓度500 时间40', [n(2, 500), n(3, 40)]],
    ['1 正常 2 正常 3 450 4 35分钟', [ok(0), ok(1), n(2, 450), n(3, 35)]],
  ] as const)('"%s" (disinfection)', (text, answers) => {
    expect(read(text, disinfection)).toEqual({ allOk: false, answers, problems: [] });
  });

  it('numbers for 晨检 and the canteen, with labels, units and negatives', () => {
    expect(read('1 30 2 29 3 0', morning)!.answers).toEqual([n(0, 30), n(1, 29), n(2, 0)]);
    expect(read('应到30 实到29 体温异常0', morning)!.answers).toEqual([n(0, 30), n(1, 29), n(2, 0)]);
    expect(read('应到 30人，实到 28人，3 体温异常 1 已通知家长', morning)!.answers).toEqual([
      n(0, 30),
      n(1, 28),
      n(2, 1, '已通知家长'),
    ]);
    expect(read('全部正常 4 -2℃', canteen)).toEqual({ allOk: true, answers: [n(3, -2)], problems: [] });
    expect(read('冷藏温度 4度', canteen)!.answers).toEqual([n(3, 4)]);
    expect(read('2 无 今天忘了留样', canteen)!.answers).toEqual([bad(1, '今天忘了留样')]);
  });

  it('the mixed example from the issue: "1 正常 2 450 4 异常 滑梯松动"', () => {
    expect(read('1 正常 2 450 4 异常 滑梯松动', mixed)).toEqual({
      allOk: false,
      answers: [ok(0), n(1, 450), bad(3, '滑梯松动')],
      problems: [],
    });
  });

  it('text items take the words that follow', () => {
    expect(read('1 正常 2 东门门锁换了新的', withText)!.answers).toEqual([
      ok(0),
      { index: 1, text: '东门门锁换了新的' },
    ]);
  });
});

describe('checklist answers: what cannot be used, and what is not an answer', () => {
  it('explains a value of the wrong kind', () => {
    expect(read('2 450', safety)).toEqual({
      allOk: false,
      answers: [],
      problems: ['第2项“电路插座”请回复“正常”或“异常”'],
    });
    expect(read('3 异常', morning)).toEqual({ allOk: false, answers: [], problems: ['第3项“体温异常人数”请填数字'] });
    expect(read('1 正常 7 正常', safety)).toEqual({ allOk: false, answers: [ok(0)], problems: ['没有第7项（共6项）'] });
    expect(read('全部正常，不过有点问题', safety)!.problems).toHaveLength(1);
  });

  it.each([
    '报修 小一班 空调不制冷',
    '接单 12',
    '完工 12 换了灯管',
    '12号好了',
    '7 正常',
    '5 好吃',
    '4',
    '好的',
    '谢谢',
    '全部正常吗',
    '中二班厕所堵了',
    '进度 3',
    '2 号楼漏水',
    '',
  ])('"%s" is not an answer', (text) => {
    expect(read(text, safety)).toBeUndefined();
  });
});
