// The digest with a site's own kinds of work (the example hospital's 运送 and 医废收运): figures per configured kind,
// rows and the oldest open tasks under their configured names, one bar per kind in the chart.
import { describe, expect, it } from 'vitest';
import { dailySeries, openWork, spanOf, totals, type DigestFigures } from '../../src/domain/digest/figures.js';
import { renderDigest } from '../../src/domain/digest/render.js';
import { chartSvg } from '../../src/domain/digest/chart.js';
import { builtInKindList, type KindInfo } from '../../src/domain/kinds.js';
import type { Task } from '../../src/domain/tasks/task.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const targets = { normal: { claim: 15 * MIN, finish: 8 * HOUR }, urgent: { claim: 5 * MIN, finish: 2 * HOUR } };
const NOW = Date.parse('2026-11-20T18:00:00+08:00');
const kinds: KindInfo[] = [
  ...builtInKindList,
  { id: 'porter', name: '运送' },
  { id: 'medical_waste', name: '医废收运' },
];
const ids = kinds.map((k) => k.id);

const day: Record<string, number> = {
  'rep:repair': 3,
  'clm:repair': 3,
  'fin:repair': 2,
  'acc:repair': 1,
  'rep:porter': 12,
  'clm:porter': 12,
  'clmms:porter': 12 * 6 * MIN,
  'fin:porter': 11,
  'finms:porter': 11 * 40 * MIN,
  'acc:porter': 10,
  'rep:medical_waste': 5,
  'clm:medical_waste': 4,
  'rep:gone': 7, // a kind since removed from the config: left out
};

function task(id: number, over: Partial<Task>): Task {
  return {
    id,
    kind: 'repair',
    text: '灯不亮',
    reporter: 'li_jing',
    team: 'shuidian',
    source: { channel: 'local', surface: 'console', chatId: 'ward_5', chatType: 'group' },
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

describe('digest with a site’s own kinds', () => {
  it('adds up the figures of every configured kind, and only those', () => {
    const t = totals([day], ids);
    expect(Object.keys(t.kinds)).toEqual(ids);
    expect(t.kinds.porter).toMatchObject({ reported: 12, claimed: 12, finished: 11, accepted: 10 });
    expect(t.kinds.medical_waste).toMatchObject({ reported: 5, claimed: 4 });
    expect(t.kinds.meal.reported).toBe(0);
    expect(t.all.reported).toBe(20);
    // Without the list, the built-in three, as before.
    expect(Object.keys(totals([day]).kinds)).toEqual(['repair', 'cleaning', 'meal']);
  });

  it('counts overdue open work per configured kind', () => {
    const active = [
      task(1, { kind: 'medical_waste', place: '5病区', text: '5病区有两箱医疗废物要收', createdAt: NOW - 2 * HOUR }),
      task(2, { kind: 'porter', state: 'claimed', createdAt: NOW - 10 * HOUR }),
      task(3, { kind: 'repair', createdAt: NOW - 5 * MIN }),
    ];
    const o = openWork(active, active.length, targets, NOW, 3, ids);
    expect(o.overdue).toEqual({ repair: 0, cleaning: 0, meal: 0, porter: 1, medical_waste: 1 });
    expect(o.overdueTotal).toBe(2);
  });

  it('shows each kind under its configured name, the oldest open work too', () => {
    const active = [
      task(31, { kind: 'medical_waste', place: '5病区', text: '5病区有两箱医疗废物要收', createdAt: NOW - 2 * HOUR }),
    ];
    const f: DigestFigures = {
      org: '清河县人民医院',
      kinds,
      period: 'day',
      ...spanOf('day', '2026-11-20'),
      now: NOW,
      targets,
      tasks: totals([day], ids),
      open: openWork(active, active.length, targets, NOW, 3, ids),
      checklists: { sheets: 0, done: 0, missed: 0, pending: 0, withFailures: 0, failures: [], missedSheets: [] },
      meals: { count: 0, rated: 0, meals: [], notable: [], notableTotal: 0 },
    };
    const text = renderDigest(f, (id) => id);
    expect(text).toContain('报修　报 3 · 接 3 · 完 2 · 验 1 · 超时 0');
    expect(text).toContain('运送　报 12 · 接 12 · 完 11 · 验 10 · 超时 0');
    expect(text).toContain('医废收运　报 5 · 接 4 · 完 0 · 验 0 · 超时 1');
    expect(text).not.toContain('保洁　');
    expect(text).toContain('合计　报 20');
    expect(text).toContain('#31 医废收运【5病区】');
  });

  it('draws one bar series per kind, named', () => {
    const series = dailySeries(spanOf('week', '2026-11-20').span.dates, new Map([['2026-11-20', day]]), ids);
    expect(series.reported.porter.at(-1)).toBe(12);
    const svg = chartSvg({ title: '清河县人民医院 后勤周报', series, finishTargetMs: 8 * HOUR, kinds });
    for (const word of ['报修', '保洁', '餐评', '运送', '医废收运']) expect(svg).toContain(word);
  });
});
