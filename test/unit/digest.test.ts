// The digest's pure parts on hand-built data: periods, figures from the daily stats, open work, checklists, meals,
// the stats deltas of each step, and the exact text the director reads.
import { describe, expect, it } from 'vitest';
import {
  checklistFigures,
  dailySeries,
  mealFigures,
  openWork,
  spanOf,
  totals,
  type DigestFigures,
  type Targets,
} from '../../src/domain/digest/figures.js';
import { renderDigest, shortDuration, splitMessage, toPlainText } from '../../src/domain/digest/render.js';
import { chartPng, chartSvg } from '../../src/domain/digest/chart.js';
import { createDeltas, statsDayKey, transitionDeltas, type StatsOptions } from '../../src/store/stats.js';
import type { ChecklistSheet, MealFeedback } from '../../src/domain/records.js';
import type { Task } from '../../src/domain/tasks/task.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const targets: Targets = {
  normal: { claim: 30 * MIN, finish: 24 * HOUR },
  urgent: { claim: 10 * MIN, finish: 4 * HOUR },
};
const names: Record<string, string> = {
  li_sf: '李师傅',
  wu_sf: '吴师傅',
  he_ay: '何阿姨',
  wang_li: '王丽',
  li_na: '李娜',
  chen_zr: '陈主任',
  zhao_jing: '赵静',
};
const name = (id: string) => names[id] ?? id;
// 2026-11-20 (a Friday) 17:30 in Asia/Shanghai.
const NOW = Date.parse('2026-11-20T17:30:00+08:00');

function task(id: number, over: Partial<Task>): Task {
  return {
    id,
    kind: 'repair',
    text: '灯不亮',
    reporter: 'wang_li',
    team: 'shuidian',
    source: { channel: 'wecom', surface: 'aibot', chatId: 'c', chatType: 'group' },
    urgent: false,
    state: 'open',
    acked: false,
    createdAt: NOW - HOUR,
    rework: 0,
    doneCount: 0,
    version: 1,
    ...over,
  };
}

// What the stats hashes of 2026-11-20 hold after a busy day (the fields store/stats.ts writes).
const friday: Record<string, number> = {
  'rep:repair': 5,
  'urg:repair': 1,
  'rep:cleaning': 2,
  'rep:meal': 1,
  'clm:repair': 4,
  'clmms:repair': 4 * 20 * MIN,
  'clmlate:repair': 1,
  'clm:cleaning': 2,
  'clmms:cleaning': 2 * 10 * MIN,
  'fin:repair': 3,
  'finms:repair': 3 * 2 * HOUR,
  'fin:cleaning': 2,
  'finms:cleaning': 2 * 30 * MIN,
  'finlate:repair': 0,
  'acc:repair': 3,
  'auto:repair': 1,
  'acc:cleaning': 1,
  'rat:repair': 3,
  'rats:repair': 14,
  'rat:cleaning': 1,
  'rats:cleaning': 5,
  'rwk:repair': 1,
  'can:cleaning': 0,
  'w:li_sf:fin': 2,
  'w:li_sf:rn': 2,
  'w:li_sf:rs': 9,
  'w:li_sf:rwk': 1,
  'w:wu_sf:fin': 1,
  'w:wu_sf:rn': 1,
  'w:wu_sf:rs': 5,
  'w:he_ay:fin': 2,
  'w:he_ay:rn': 1,
  'w:he_ay:rs': 5,
};

const active: Task[] = [
  task(101, {
    createdAt: NOW - 50 * HOUR,
    state: 'claimed',
    assignee: 'li_sf',
    place: '中二班',
    text: '中二班 厕所水龙头一直漏水，地上都湿了',
  }),
  task(105, { createdAt: NOW - 3 * HOUR, state: 'open', place: '操场', text: '滑梯螺丝松了', trade: '玩具' }),
  task(106, {
    createdAt: NOW - 2 * HOUR,
    state: 'on_hold',
    kind: 'cleaning',
    place: '午睡室',
    text: '地毯有污渍',
    holdReason: '等清洁剂',
  }),
  task(107, {
    createdAt: NOW - 20 * MIN,
    state: 'open',
    kind: 'meal',
    urgent: true,
    place: '厨房',
    text: '汤里有头发',
  }),
  task(108, { createdAt: NOW - 10 * MIN, state: 'done', assignee: 'wu_sf' }),
];

const sheet = (id: string, over: Partial<ChecklistSheet>): ChecklistSheet => ({
  id,
  template: id.split('.')[0],
  title: '每日安全检查',
  responsible: 'chen_zr',
  chat: 'manager',
  date: '2026-11-20',
  postedAt: NOW - 10 * HOUR,
  status: 'done',
  items: [],
  ...over,
});

const sheets: ChecklistSheet[] = [
  sheet('safety', {
    items: [
      { key: 'doors', label: '门窗门锁', type: 'yesno', value: true, ok: true },
      {
        key: 'fire',
        label: '消防器材与通道',
        type: 'yesno',
        value: false,
        ok: false,
        note: '灭火器压力不足',
        task: 109,
      },
    ],
  }),
  sheet('disinfection.0', {
    template: 'disinfection',
    title: '消毒记录',
    area: '午睡室',
    responsible: 'he_ay',
    items: [
      { key: 'chlorine', label: '含氯消毒液浓度', type: 'number', unit: 'mg/L', value: 600, ok: false, task: 110 },
    ],
  }),
  sheet('morning_check.4', {
    template: 'morning_check',
    title: '晨检',
    area: '大一班',
    responsible: 'zhao_jing',
    status: 'missed',
    items: [{ key: 'expected', label: '应到', type: 'number', unit: '人' }],
  }),
  sheet('canteen', { template: 'canteen', title: '食堂卫生检查', responsible: 'qian_sf', status: 'open', items: [] }),
];

const meals: MealFeedback[] = [
  { at: NOW - 5 * HOUR, person: 'wang_li', meal: '午餐', rating: 5, urgent: false },
  { at: NOW - 5 * HOUR, person: 'li_na', meal: '午餐', rating: 1, text: '米饭太硬', urgent: false },
  { at: NOW - 5 * HOUR, person: 'zhao_jing', meal: '午餐', rating: 4, text: '汤里有头发', urgent: true, task: 107 },
  { at: NOW - 2 * HOUR, person: 'wang_li', meal: '午点', rating: 4, urgent: false },
  { at: NOW - 2 * HOUR, person: 'li_na', meal: '午点', rating: 5, text: '很好', urgent: false },
];

function dayFigures(): DigestFigures {
  return {
    org: '阳光幼儿园',
    period: 'day',
    ...spanOf('day', '2026-11-20'),
    now: NOW,
    targets,
    tasks: totals([friday]),
    open: openWork(active, active.length, targets, NOW),
    checklists: checklistFigures(sheets),
    meals: mealFigures(meals, 2),
  };
}

describe('periods', () => {
  it('day is the date; week the seven days ending on it; month the 1st to it, compared with the same days before', () => {
    expect(spanOf('day', '2026-11-20')).toEqual({
      span: { from: '2026-11-20', to: '2026-11-20', dates: ['2026-11-20'] },
    });
    const w = spanOf('week', '2026-11-20');
    expect([w.span.from, w.span.to, w.span.dates.length, w.prev!.from, w.prev!.to]).toEqual([
      '2026-11-14',
      '2026-11-20',
      7,
      '2026-11-07',
      '2026-11-13',
    ]);
    const m = spanOf('month', '2026-03-30');
    expect([m.span.from, m.span.to, m.span.dates.length, m.prev!.from, m.prev!.to]).toEqual([
      '2026-03-01',
      '2026-03-30',
      30,
      '2026-02-01',
      '2026-02-28',
    ]);
    const jan = spanOf('month', '2027-01-22');
    expect([jan.prev!.from, jan.prev!.to]).toEqual(['2026-12-01', '2026-12-22']);
  });
});

describe('figures', () => {
  it('adds daily stats by kind, in all and per worker', () => {
    const t = totals([friday, { 'rep:repair': 2, 'w:li_sf:fin': 1, 'unknown:x': 5, 'rep:nokind': 3 }]);
    expect(t.kinds.repair).toMatchObject({
      reported: 7,
      urgent: 1,
      claimed: 4,
      claimMs: 80 * MIN,
      claimLate: 1,
      finished: 3,
      finishMs: 6 * HOUR,
      accepted: 3,
      autoAccepted: 1,
      ratings: 3,
      ratingSum: 14,
      rework: 1,
    });
    expect(t.all).toMatchObject({ reported: 10, claimed: 6, finished: 5, accepted: 4, ratings: 4, ratingSum: 19 });
    expect(t.workers.li_sf).toEqual({ finished: 3, ratings: 2, ratingSum: 9, rework: 1 });
  });

  it('open work: counts by state, overdue against the targets of each urgency, the oldest unfinished', () => {
    const o = openWork(active, 7, targets, NOW);
    expect(o.counts).toEqual({ open: 2, claimed: 1, on_hold: 1, done: 1 });
    // #101 unfinished after 50 h (> 24 h), #105 unclaimed after 3 h (> 30 min), #107 urgent unclaimed 20 min (> 10 min).
    expect(o.overdue).toEqual({ repair: 2, cleaning: 0, meal: 1 });
    expect(o.oldest.map((x) => [x.task.id, x.overdue])).toEqual([
      [101, true],
      [105, true],
      [106, false],
    ]);
    expect(o.unread).toBe(2);
  });

  it('checklists: done, missed, still open, failed items with their tasks', () => {
    const c = checklistFigures(sheets);
    expect(c).toMatchObject({ sheets: 4, done: 2, missed: 1, pending: 1, withFailures: 2 });
    expect(c.failures).toEqual([
      { date: '2026-11-20', sheet: '每日安全检查', item: '消防器材与通道', value: '异常', task: 109 },
      { date: '2026-11-20', sheet: '消毒记录·午睡室', item: '含氯消毒液浓度', value: '600mg/L', task: 110 },
    ]);
    expect(c.missedSheets).toEqual([{ date: '2026-11-20', sheet: '晨检·大一班', responsible: 'zhao_jing' }]);
  });

  it('meals: average per meal and in all; food safety first, then low scores', () => {
    const m = mealFigures(meals, 2);
    expect(m.average).toBeCloseTo(19 / 5);
    expect(m.meals).toEqual([
      { meal: '午餐', rated: 3, average: 10 / 3 },
      { meal: '午点', rated: 2, average: 4.5 },
    ]);
    expect(m.notable.map((f) => f.text)).toEqual(['汤里有头发', '米饭太硬']);
  });

  it('per-day series for the chart: reported by kind, average hours to finish', () => {
    const s = dailySeries(['2026-11-19', '2026-11-20'], new Map([['2026-11-20', friday]]));
    expect(s.reported).toEqual({ repair: [0, 5], cleaning: [0, 2], meal: [0, 1] });
    expect(s.finishHours).toEqual([null, 1.4]); // (6 h + 1 h) / 5
  });

  it('durations read short on a phone', () => {
    expect([shortDuration(18 * MIN), shortDuration(90 * MIN), shortDuration(50 * HOUR)]).toEqual([
      '18分钟',
      '1.5小时',
      '2.1天',
    ]);
  });
});

describe('stats deltas of each step', () => {
  const o: StatsOptions = { timezone: 'Asia/Shanghai', targets: { normal: targets.normal, urgent: targets.urgent } };
  const key = statsDayKey('p', '2026-11-20');
  const created = Date.parse('2026-11-20T08:00:00+08:00');
  const before = {
    kind: 'repair' as const,
    urgent: false,
    createdAt: created,
    state: 'open' as const,
    doneCount: 0,
    assignee: undefined,
    rating: undefined,
  };

  it('a report counts on its day in the school time zone (00:30 in Shanghai is the day before in UTC)', () => {
    expect(
      createDeltas('p', { kind: 'cleaning', urgent: true, createdAt: Date.parse('2026-11-20T00:30:00+08:00') }, o),
    ).toEqual([
      [key, 'rep:cleaning', 1],
      [key, 'urg:cleaning', 1],
    ]);
  });

  it('the first claim counts with its time and whether it was late; a transfer does not', () => {
    expect(transitionDeltas('p', before, { event: { at: created + 40 * MIN, type: 'claimed' } }, o)).toEqual([
      [key, 'clm:repair', 1],
      [key, 'clmms:repair', 40 * MIN],
      [key, 'clmlate:repair', 1],
    ]);
    expect(
      transitionDeltas(
        'p',
        { ...before, urgent: true },
        { event: { at: created + 5 * MIN, type: 'assigned' }, set: { assignee: 'li_sf' } },
        o,
      ),
    ).toEqual([
      [key, 'clm:repair', 1],
      [key, 'clmms:repair', 5 * MIN],
    ]);
    expect(
      transitionDeltas('p', { ...before, state: 'claimed' }, { event: { at: created + HOUR, type: 'transferred' } }, o),
    ).toEqual([]);
  });

  it('the first 完工 counts for the task and its worker; after rework it does not count again', () => {
    const b = { ...before, state: 'claimed' as const, assignee: 'li_sf' };
    expect(transitionDeltas('p', b, { event: { at: created + 2 * HOUR, type: 'done' } }, o)).toEqual([
      [key, 'fin:repair', 1],
      [key, 'finms:repair', 2 * HOUR],
      [key, 'w:li_sf:fin', 1],
    ]);
    expect(
      transitionDeltas('p', { ...b, doneCount: 1 }, { event: { at: created + 3 * HOUR, type: 'done' } }, o),
    ).toEqual([]);
    expect(
      transitionDeltas(
        'p',
        { ...b, state: 'done', doneCount: 1 },
        { event: { at: created + 3 * HOUR, type: 'reopened' } },
        o,
      ),
    ).toEqual([
      [key, 'rwk:repair', 1],
      [key, 'w:li_sf:rwk', 1],
    ]);
  });

  it('rating a finished task accepts it; a second rating moves the sum only; 自动验收 counts a default 5', () => {
    const b = { ...before, state: 'done' as const, doneCount: 1, assignee: 'wu_sf' };
    expect(transitionDeltas('p', b, { event: { at: created + 5 * HOUR, type: 'rated', rating: 4 } }, o)).toEqual([
      [key, 'acc:repair', 1],
      [key, 'rat:repair', 1],
      [key, 'rats:repair', 4],
      [key, 'w:wu_sf:rn', 1],
      [key, 'w:wu_sf:rs', 4],
    ]);
    expect(
      transitionDeltas(
        'p',
        { ...b, state: 'accepted', rating: 4 },
        { event: { at: created + 6 * HOUR, type: 'rated', rating: 2 } },
        o,
      ),
    ).toEqual([
      [key, 'rats:repair', -2],
      [key, 'w:wu_sf:rs', -2],
    ]);
    expect(
      transitionDeltas('p', b, { event: { at: created + 7 * HOUR, type: 'auto_accepted', rating: 5 } }, o),
    ).toEqual([
      [key, 'acc:repair', 1],
      [key, 'auto:repair', 1],
      [key, 'rat:repair', 1],
      [key, 'rats:repair', 5],
      [key, 'w:wu_sf:rn', 1],
      [key, 'w:wu_sf:rs', 5],
    ]);
  });
});

describe('the text', () => {
  it('the daily digest, line by line', () => {
    expect(renderDigest(dayFigures(), name)).toBe(`**阳光幼儿园 · 后勤日报**
11月20日（周五）

**工单**
报修　报 5 · 接 4 · 完 3 · 验 3 · 超时 2
保洁　报 2 · 接 2 · 完 2 · 验 1 · 超时 0
餐评　报 1 · 接 0 · 完 0 · 验 0 · 超时 1
合计　报 8 · 接 6 · 完 5 · 验 4 · 紧急 1
接单　平均 17分钟 · 目标 30分钟 · 超时 1/6
完工　平均 1.4小时 · 目标 24小时 · 超时 0/5
在办　待接单 2 · 处理中 1 · 挂起 1 · 待验收 1 · 超时 3
最久未完成
> #101 报修【中二班】厕所水龙头一直漏水，地上都… · 处理中 2.1天 ⚠
> #105 报修【操场】滑梯螺丝松了 · 待接单 3小时 ⚠
> #106 保洁【午睡室】地毯有污渍 · 挂起 2小时

**检查**　完成 2/4 · 漏检 1 · 有异常 2 · 未到期 1
> 每日安全检查 · 消防器材与通道 异常 → #109
> 消毒记录·午睡室 · 含氯消毒液浓度 600mg/L → #110
> 晨检·大一班 漏检（赵静）

**膳食**　午餐 3.3分（3） · 午点 4.5分（2） · 平均 3.8
> ⚠ 午餐 4分 汤里有头发（赵静） → #107
> 午餐 1分 米饭太硬（李娜）

**评价**　4 条 · 平均 4.8 分 · 默认好评 1 · 返工 1

**量化考核**
> 何阿姨 完工 2 · 5.0 分（1）
> 李师傅 完工 2 · 4.5 分（2） · 返工 1
> 吴师傅 完工 1 · 5.0 分（1）`);
  });
});

describe('summaries, size, plain text, chart', () => {
  const week = (): DigestFigures => {
    const { span, prev } = spanOf('week', '2026-11-20');
    const prevDay = {
      'rep:repair': 4,
      'clm:repair': 4,
      'clmms:repair': 4 * 25 * MIN,
      'fin:repair': 6,
      'finms:repair': 6 * 3 * HOUR,
      'acc:repair': 5,
      'rat:repair': 4,
      'rats:repair': 18,
      'rwk:repair': 3,
    };
    return {
      ...dayFigures(),
      period: 'week',
      span,
      prev,
      tasks: totals([friday, { 'rep:cleaning': 1 }]),
      prevTasks: totals([prevDay]),
      prevChecklists: checklistFigures(sheets.slice(0, 1)),
      prevMeals: mealFigures(meals.slice(0, 1), 2),
    };
  };

  it('a weekly summary compares with the week before', () => {
    const text = renderDigest(week(), name);
    const lines = text.split('\n');
    expect(lines[0]).toBe('**阳光幼儿园 · 后勤周报**');
    expect(lines[1]).toBe('11月14日–11月20日，括号内为与上周（11月7日–11月13日）相比');
    expect(text).toContain('合计　报 9（+5） · 接 6（+2） · 完 5（−1） · 验 4（−1） · 紧急 1');
    expect(text).toContain('接单　平均 17分钟 · 目标 30分钟 · 超时 1/6 · 上周 25分钟');
    expect(text).toContain('完工　平均 1.4小时 · 目标 24小时 · 超时 0/5 · 上周 3小时');
    expect(text).toContain('**检查**　完成 2/4 · 漏检 1 · 有异常 2 · 未到期 1（上周 完成 1/1）');
    expect(text).toContain('> 11-20 每日安全检查 · 消防器材与通道 异常 → #109'); // several days: each line says which
    expect(text).toContain('· 平均 3.8（上周 5.0）');
    expect(text).toContain('**评价**　4 条 · 平均 4.8 分（上周 4.5） · 默认好评 1 · 返工 1（−2）');
  });

  it('an empty day says so in a few lines', () => {
    const f: DigestFigures = {
      ...dayFigures(),
      tasks: totals([]),
      open: openWork([], 0, targets, NOW),
      checklists: checklistFigures([]),
      meals: mealFigures([], 2),
    };
    expect(renderDigest(f, name)).toBe(`**阳光幼儿园 · 后勤日报**
11月20日（周五）

**工单**
当日无新工单
接单　— · 目标 30分钟
完工　— · 目标 24小时
在办　待接单 0 · 处理中 0 · 挂起 0 · 待验收 0 · 超时 0

**检查**　无记录

**膳食**　无评价

**评价**　0 条 · 平均 — 分 · 默认好评 0 · 返工 0`);
  });

  it('a busy day still fits one WeCom app message (2048 bytes): lists are capped', () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      task(200 + i, {
        createdAt: NOW - (50 - i) * HOUR,
        place: '多功能厅',
        text: '多功能厅的投影仪又不亮了，遥控器也找不到，明天上午要开家长会',
      }),
    );
    const busySheets = Array.from({ length: 20 }, (_, i) =>
      sheet(`morning_check.${i}`, {
        template: 'morning_check',
        title: '晨检',
        area: `大${i}班`,
        status: i % 2 ? 'missed' : 'done',
        items: [
          { key: 'fever', label: '体温异常人数', type: 'number', unit: '人', value: 2, ok: false, task: 300 + i },
        ],
      }),
    );
    const busyMeals = Array.from({ length: 30 }, (_, i) => ({
      at: NOW,
      person: 'li_na',
      meal: ['早餐', '午餐', '午点', '晚餐'][i % 4],
      rating: 1,
      text: '今天的菜太咸了孩子们都不爱吃，希望改进一下',
      urgent: i % 3 === 0,
    }));
    const workers: Record<string, number> = {};
    for (let i = 0; i < 8; i++)
      Object.assign(workers, {
        [`w:worker_${i}:fin`]: 10 + i,
        [`w:worker_${i}:rn`]: 9,
        [`w:worker_${i}:rs`]: 40,
        [`w:worker_${i}:rwk`]: 1,
      });
    const f: DigestFigures = {
      ...dayFigures(),
      tasks: totals([friday, workers]),
      open: openWork(many, 40, targets, NOW),
      checklists: checklistFigures(busySheets),
      meals: mealFigures(busyMeals, 2),
    };
    const text = renderDigest(f, name);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2048);
    expect(text).toContain('> 另有 18 项异常');
    expect(text).toContain('> 另有 8 张漏检');
    expect(text).toContain('> 另有 27 条低分或食品安全意见');
    expect(text).toContain('> 另有 3 人，见周报');
  });

  it('long texts split between sections; plain text drops the markdown marks', () => {
    const text = ['**一**', 'a'.repeat(1500), '', '**二**', 'b'.repeat(1500), '', '**三**', 'c'.repeat(10)].join('\n');
    const parts = splitMessage(text, 2000);
    expect(parts).toHaveLength(2);
    expect(parts.every((p) => Buffer.byteLength(p) <= 2000)).toBe(true);
    expect(parts.join('\n\n')).toBe(text);
    expect(toPlainText('**工单**\n> #1 报修\n平均 **3** 分')).toBe('工单\n  #1 报修\n平均 3 分');
  });

  it('the chart: SVG with the kinds and the target; a PNG even without a CJK font', () => {
    const series = dailySeries(spanOf('week', '2026-11-20').span.dates, new Map([['2026-11-20', friday]]));
    const svg = chartSvg({ title: '阳光幼儿园 后勤周报', series, finishTargetMs: 24 * HOUR });
    for (const word of ['报修', '保洁', '餐评', '目标', '11-20']) expect(svg).toContain(word);
    const png = chartPng({ title: 'x', series, finishTargetMs: 24 * HOUR }, null);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(900); // IHDR width
  });
});
