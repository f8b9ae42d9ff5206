// The district summary's chart: per site, the share of the week's finished work finished within target and the
// overdue open work, as horizontal bars side by side (long Chinese names read along the axis), worst sites on top.
// Drawn with the site digest's machinery (echarts SSR → SVG → resvg PNG, digest/chart.ts), same font lookup.
import { type ChartFont, chartFont, echartsSvg, svgPng } from '../digest/chart.js';
import { inTargetShare, rankSites, type SiteFigures } from './figures.js';

/** Sites drawn at most; with more, the worst ones. */
export const CHARTED = 20;

export interface DistrictChartInput {
  title: string;
  sites: readonly SiteFigures[];
  width?: number;
}

const COLORS = { share: '#59a14f', overdue: '#e15759' };

function shortName(name: string, max = 10): string {
  const chars = Array.from(name);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : name;
}

/** The chart as SVG text. */
export function districtChartSvg(input: DistrictChartInput, fontFamily = 'sans-serif'): string {
  const ranked = rankSites(input.sites);
  const sites = ranked.slice(0, CHARTED);
  const cut = ranked.length > sites.length;
  const width = input.width ?? 900;
  const rowH = 30;
  const top = 90;
  const height = Math.max(320, top + sites.length * rowH + 50);
  const names = sites.map((s) => shortName(s.name));
  const shares = sites.map((s) => {
    const v = inTargetShare(s);
    return v === undefined ? null : Math.round(v * 1000) / 10;
  });
  const overdue = sites.map((s) => s.overdue);
  const maxOverdue = Math.max(1, ...overdue);
  const label = (position: string) => ({ show: true, position, fontFamily, fontSize: 11 });
  return echartsSvg(
    {
      animation: false,
      backgroundColor: '#ffffff',
      textStyle: { fontFamily },
      title: [
        { text: input.title, left: 'center', top: 10, textStyle: { fontSize: 18, fontFamily } },
        {
          text: cut ? `需关注最多的 ${sites.length} 个单位（共 ${ranked.length} 个）` : '问题多者在上',
          left: 'center',
          top: 36,
          textStyle: { fontSize: 12, color: '#666', fontFamily },
        },
        { text: '按时完工率（%）', left: 170, top: 62, textStyle: { fontSize: 14, fontFamily } },
        { text: '超时在办（单）', left: 560, top: 62, textStyle: { fontSize: 14, fontFamily } },
      ],
      grid: [
        { left: 170, width: 320, top, bottom: 40 },
        { left: 560, width: 300, top, bottom: 40 },
      ],
      xAxis: [
        { type: 'value', gridIndex: 0, min: 0, max: 100, axisLabel: { fontFamily } },
        { type: 'value', gridIndex: 1, min: 0, max: maxOverdue, minInterval: 1, axisLabel: { fontFamily } },
      ],
      yAxis: [
        { type: 'category', gridIndex: 0, inverse: true, data: names, axisLabel: { fontFamily, fontSize: 12 } },
        { type: 'category', gridIndex: 1, inverse: true, data: names, axisLabel: { show: false } },
      ],
      series: [
        {
          name: '按时完工率',
          type: 'bar',
          xAxisIndex: 0,
          yAxisIndex: 0,
          barMaxWidth: 18,
          itemStyle: { color: COLORS.share },
          label: { ...label('right'), formatter: '{c}%' },
          data: shares,
        },
        {
          name: '超时在办',
          type: 'bar',
          xAxisIndex: 1,
          yAxisIndex: 1,
          barMaxWidth: 18,
          itemStyle: { color: COLORS.overdue },
          label: label('right'),
          data: overdue,
        },
      ],
    },
    width,
    height,
  );
}

/** The chart as PNG bytes; without a CJK font its text is left out (digest/chart.ts). */
export function districtChartPng(input: DistrictChartInput, font: ChartFont | null = chartFont()): Buffer {
  return svgPng(districtChartSvg(input, font ? font.family : 'sans-serif'), font);
}
