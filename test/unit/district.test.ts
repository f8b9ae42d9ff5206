// The district's view, the pure parts: the week and the district's time zone, the ranking, the text with many sites
// (totals, the ten that need attention, the rest counted), and Excel's rules for sheet names.
import { describe, expect, it } from 'vitest';
import {
  districtTimezone,
  districtTotals,
  lastWeek,
  monthOf,
  rankSites,
  type SiteFigures,
  weekOf,
} from '../../src/domain/district/figures.js';
import { type DistrictFigures, LISTED, renderDistrict } from '../../src/domain/district/render.js';
import { districtChartSvg } from '../../src/domain/district/chart.js';
import { sheetNameOf } from '../../src/ledger/export.js';

const NOW = Date.parse('2026-11-24T09:00:00+08:00');

function site(id: string, over: Partial<SiteFigures> = {}): SiteFigures {
  return {
    id,
    name: `${id}校`,
    timezone: 'Asia/Shanghai',
    reported: 10,
    urgent: 0,
    cancelled: 0,
    finished: 10,
    finishedLate: 0,
    inTarget: 10,
    open: 0,
    overdue: 0,
    uncounted: 0,
    checklists: 5,
    checklistsDone: 5,
    missed: 0,
    withFailures: 0,
    meals: 2,
    foodSafety: 0,
    mealComplaints: 0,
    mealRated: 2,
    mealRatingSum: 9,
    ratings: 2,
    ratingSum: 10,
    ...over,
  };
}

function district(sites: SiteFigures[]): DistrictFigures {
  return {
    name: '城关区教育局',
    span: weekOf('2026-11-18'),
    now: NOW,
    timezone: 'Asia/Shanghai',
    mixedTimezones: false,
    sites,
    totals: districtTotals(sites),
  };
}

describe('periods', () => {
  it('a week is Monday to Sunday, whatever day is given', () => {
    expect(weekOf('2026-11-18')).toMatchObject({ from: '2026-11-16', to: '2026-11-22' });
    expect(weekOf('2026-11-16').dates).toHaveLength(7);
    expect(weekOf('2026-11-22').from).toBe('2026-11-16');
    expect(weekOf('2026-11-23').from).toBe('2026-11-23');
    expect(weekOf('2027-01-01')).toMatchObject({ from: '2026-12-28', to: '2027-01-03' });
  });

  it('the last whole week before today, and a month', () => {
    expect(lastWeek('2026-11-23')).toMatchObject({ from: '2026-11-16', to: '2026-11-22' }); // a Monday
    expect(lastWeek('2026-11-22')).toMatchObject({ from: '2026-11-09', to: '2026-11-15' }); // a Sunday
    expect(monthOf('2026-02')).toMatchObject({ from: '2026-02-01', to: '2026-02-28' });
    expect(monthOf('2028-02').dates).toHaveLength(29);
  });

  it('the district time zone is the one most sites have', () => {
    expect(districtTimezone(['Asia/Shanghai', 'Asia/Urumqi', 'Asia/Shanghai'])).toEqual({
      timezone: 'Asia/Shanghai',
      mixed: true,
    });
    expect(districtTimezone(['Asia/Urumqi'])).toEqual({ timezone: 'Asia/Urumqi', mixed: false });
  });
});

describe('ranking', () => {
  it('puts the most problems first (overdue + missed + food safety), then overdue, missed, food safety', () => {
    const ranked = rankSites([
      site('fine'),
      site('late', { inTarget: 5 }), // no problems, but the lowest share in target
      site('one-overdue', { overdue: 1 }),
      site('two-missed', { missed: 2 }),
      site('food', { foodSafety: 1, missed: 1 }),
      site('overdue-missed', { overdue: 1, missed: 1 }),
    ]);
    expect(ranked.map((s) => s.id)).toEqual(['overdue-missed', 'two-missed', 'food', 'one-overdue', 'late', 'fine']);
  });

  it('totals add the counts; shares and averages come from the sums', () => {
    const t = districtTotals([site('a'), site('b', { finished: 4, inTarget: 1, mealRated: 1, mealRatingSum: 1 })]);
    expect(t).toMatchObject({ reported: 20, finished: 14, inTarget: 11, mealRated: 3, mealRatingSum: 10 });
  });
});

describe('the text with many sites', () => {
  it('shows the totals, the ten that need attention worst first, and counts the others', () => {
    const sites: SiteFigures[] = [];
    for (let i = 1; i <= 300; i++) {
      const id = `s${String(i).padStart(3, '0')}`;
      // 14 sites with problems: s001 has 14 overdue, s002 13 … s014 one; the rest are fine.
      sites.push(site(id, i <= 14 ? { overdue: 15 - i, open: 15 - i } : {}));
    }
    const text = renderDistrict(district(sites));
    const lines = text.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      '**城关区教育局 区域汇总 11月16日–11月22日**',
      '300 个单位 · 14 个需关注',
      '工单 3000 · 完工 3000 · 按时 100%（3000/3000）',
      '超时在办 105 · 漏检 0/1500 · 食安投诉 0',
      '餐评 4.5 分（600） · 工单评价 5.0 分（600）',
    ]);
    expect(text).toContain(`**需关注**（超时、漏检、食安投诉多者在前，前 ${LISTED} 个）`);
    expect(lines.filter((l) => /^\d+\. /.test(l))).toHaveLength(10);
    expect(text).toContain('1. s001校　超时 14\n> 工单 10 · 按时 100%（10/10） · 餐评 4.5 · 评价 5.0');
    expect(text).toContain('10. s010校　超时 5');
    expect(text).not.toContain('s011校');
    expect(text).toContain('> 另有 4 个单位需关注，见区域台账（Excel）');
    expect(text).toContain('其余 286 个单位无超时、漏检、食安投诉');
    expect(text).not.toContain('**正常**');
    expect(text).toContain('超时在办：截至 11月24日 09:00 仍未接单或未完工、已过目标时限的工单');
    // Fits in a few WeCom messages (2048 bytes each).
    expect(Buffer.byteLength(text)).toBeLessThan(3 * 2000);
  });

  it('with no site in trouble it says so', () => {
    const text = renderDistrict(district(Array.from({ length: 40 }, (_, i) => site(`t${i}`))));
    expect(text.split('\n')[1]).toBe('40 个单位 · 均无超时、漏检、食安投诉');
    expect(text).not.toContain('需关注**');
    expect(text).toContain('其余 40 个单位无超时、漏检、食安投诉');
  });

  it('says when the sites are in different time zones, and when open work was not all read', () => {
    const f = district([site('a', { uncounted: 7 }), site('b', { timezone: 'Asia/Urumqi' })]);
    const text = renderDistrict({ ...f, mixedTimezones: true });
    expect(text).toContain('另有 7 单在办未读取，未计入超时');
    expect(text).toContain('各单位按本地时区统计同一周（周一至周日）');
  });

  it('the chart draws at most 20 sites, the worst on top', () => {
    const sites = Array.from({ length: 30 }, (_, i) => site(`c${i}`, { overdue: i }));
    const svg = districtChartSvg({ title: '区域汇总', sites });
    expect(svg).toContain('需关注最多的 20 个单位（共 30 个）');
    expect(svg).toContain('c29校');
    expect(svg).not.toContain('c9校');
  });
});

describe('sheet names', () => {
  it('keeps Excel’s rules: 31 characters, no []:*?/\\, no apostrophe at the ends, unique ignoring case', () => {
    const used = new Set<string>();
    const long = sheetNameOf('新华小学/附属幼儿园[东区]:托班*早教中心?联合体第一分部（筹）', used);
    expect(Array.from(long).length).toBeLessThanOrEqual(31);
    expect(long).not.toMatch(/[[\]:*?/\\]/);
    expect(long.startsWith('新华小学·附属幼儿园·东区··托班')).toBe(true);
    expect(sheetNameOf("'Sunny' School", used)).toBe("Sunny' School");
    expect(sheetNameOf("sunny' school", used)).toBe("sunny' school(2)");
    expect(sheetNameOf('History', used)).toBe('History(1)');
    expect(sheetNameOf('实验小学', used)).toBe('实验小学');
    expect(sheetNameOf('实验小学', used)).toBe('实验小学(2)');
    expect(sheetNameOf("''", used, 'site-x')).toBe('site-x');
    // A name cut at 31 never splits a character outside the BMP.
    expect(Array.from(sheetNameOf('𠀀'.repeat(40), used))).toHaveLength(31);
  });
});
