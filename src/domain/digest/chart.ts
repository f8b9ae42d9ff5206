// The chart of the weekly and monthly summaries: tasks reported per day by kind, and the average time to finish
// against the target. Drawn on the server with echarts' SVG renderer (SSR, no DOM) and turned into a PNG by resvg.
// Chinese labels need a CJK font: HOUQIN_CHART_FONT, or one of the usual Debian fonts (fonts-noto-cjk,
// fonts-wqy-microhei), or whatever fontconfig names for zh. Without one the chart is drawn without text.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Echarts from 'echarts';
import type * as ResvgJs from '@resvg/resvg-js';
import { builtInKindList, type KindInfo } from '../kinds.js';
import type { DailySeries } from './figures.js';

export interface ChartFont {
  file: string;
  family: string;
}

const KNOWN_FONTS: ChartFont[] = [
  { file: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', family: 'WenQuanYi Micro Hei' },
  { file: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', family: 'Noto Sans CJK SC' },
  { file: '/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc', family: 'Noto Sans CJK SC' },
  { file: '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', family: 'WenQuanYi Zen Hei' },
  { file: '/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf', family: 'Noto Sans CJK SC' },
];

let found: ChartFont | null | undefined;

/** The CJK font the charts use (looked up once), or null when the machine has none. */
export function chartFont(env: Record<string, string | undefined> = process.env): ChartFont | null {
  if (found !== undefined) return found;
  found = null;
  const fromEnv = env.HOUQIN_CHART_FONT;
  if (fromEnv && existsSync(fromEnv))
    found = { file: fromEnv, family: env.HOUQIN_CHART_FONT_FAMILY || familyOf(fromEnv) || 'sans-serif' };
  found ??= KNOWN_FONTS.find((f) => existsSync(f.file)) ?? null;
  if (!found) {
    try {
      const [file, family] = execFileSync('fc-match', ['-f', '%{file}\n%{family[0]}', ':lang=zh'], {
        encoding: 'utf8',
        timeout: 3000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).split('\n');
      // fc-match always answers something; only take a font that really covers Chinese.
      if (file && existsSync(file) && /cjk|wqy|han|hei|song|ming|kai|droid sans fallback/i.test(`${file} ${family}`))
        found = { file, family: family || 'sans-serif' };
    } catch {
      found = null; // no fontconfig: charts are drawn without text
    }
  }
  return found;
}

function familyOf(file: string): string | undefined {
  try {
    return (
      execFileSync('fc-query', ['-f', '%{family[0]}\n', file], {
        encoding: 'utf8',
        timeout: 3000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).split('\n')[0] || undefined
    );
  } catch {
    return undefined;
  }
}

export interface ChartInput {
  title: string;
  series: DailySeries;
  finishTargetMs: number;
  /** The site's kinds with their names, one bar colour each (default: the built-in three). */
  kinds?: readonly KindInfo[];
  width?: number;
  height?: number;
}

// Loaded on first use: echarts is ~12 MB of heap, and most processes (a receiver, a day without a summary) never
// draw a chart. A smaller heap is a shorter pause at every full garbage collection.
const load = createRequire(import.meta.url);
let echarts: typeof Echarts | undefined;
let resvg: typeof ResvgJs | undefined;

const COLORS = { line: '#e15759', target: '#9c9c9c' };
/** Bar colours: the built-in kinds keep theirs; a site's own kinds take the next free ones. */
const KIND_COLORS: Record<string, string> = { repair: '#4e79a7', cleaning: '#59a14f', meal: '#f28e2b' };
const MORE_COLORS = ['#76b7b2', '#b07aa1', '#edc948', '#ff9da7', '#9c755f', '#bab0ac'];

/** The chart as SVG text. */
export function chartSvg(input: ChartInput, fontFamily = 'sans-serif'): string {
  const width = input.width ?? 900;
  const height = input.height ?? 640;
  const labels = input.series.dates.map((d) => d.slice(5));
  const targetH = Math.round((input.finishTargetMs / 3_600_000) * 10) / 10;
  const maxH = Math.max(targetH, ...input.series.finishHours.map((h) => h ?? 0));
  const kinds = input.kinds ?? builtInKindList;
  let more = 0;
  const color = (id: string) => KIND_COLORS[id] ?? MORE_COLORS[more++ % MORE_COLORS.length];
  return echartsSvg(
    {
      animation: false,
      backgroundColor: '#ffffff',
      textStyle: { fontFamily },
      title: [
        { text: input.title, left: 'center', top: 10, textStyle: { fontSize: 18, fontFamily } },
        { text: '每日新增工单（按类别）', left: 20, top: 48, textStyle: { fontSize: 14, fontFamily } },
        {
          text: `平均完工用时（小时），虚线为目标 ${targetH} 小时`,
          left: 20,
          top: 350,
          textStyle: { fontSize: 14, fontFamily },
        },
      ],
      legend: { top: 48, right: 20, textStyle: { fontFamily }, data: kinds.map((k) => k.name) },
      grid: [
        { left: 50, right: 50, top: 80, height: 220 },
        { left: 50, right: 50, top: 385, height: 210 },
      ],
      xAxis: [
        { type: 'category', gridIndex: 0, data: labels, axisLabel: { fontFamily } },
        { type: 'category', gridIndex: 1, data: labels, axisLabel: { fontFamily } },
      ],
      yAxis: [
        { type: 'value', gridIndex: 0, minInterval: 1, axisLabel: { fontFamily } },
        { type: 'value', gridIndex: 1, min: 0, max: Math.ceil(maxH * 1.15) || 1, axisLabel: { fontFamily } },
      ],
      series: [
        ...kinds.map((k) => ({
          name: k.name,
          type: 'bar',
          stack: 'reported',
          xAxisIndex: 0,
          yAxisIndex: 0,
          itemStyle: { color: color(k.id) },
          data: input.series.reported[k.id] ?? [],
        })),
        {
          name: '平均完工用时',
          type: 'line',
          xAxisIndex: 1,
          yAxisIndex: 1,
          connectNulls: true,
          itemStyle: { color: COLORS.line },
          label: { show: input.series.dates.length <= 10, position: 'top', fontFamily },
          data: input.series.finishHours,
          markLine: {
            silent: true,
            symbol: 'none',
            lineStyle: { type: 'dashed', color: COLORS.target },
            label: { formatter: '目标', fontFamily },
            data: [{ yAxis: targetH }],
          },
        },
      ],
    },
    width,
    height,
  );
}

/** An echarts option drawn as SVG text on the server (SSR, no DOM); the district's chart uses it too. */
export function echartsSvg(option: Record<string, unknown>, width: number, height: number): string {
  echarts ??= load('echarts') as typeof Echarts;
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(option);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** The chart as PNG bytes. Without a CJK font the text is left out rather than drawn as boxes or failing. */
export function chartPng(input: ChartInput, font: ChartFont | null = chartFont()): Buffer {
  return svgPng(chartSvg(input, font ? font.family : 'sans-serif'), font);
}

/** SVG text (drawn with `font`'s family) as PNG bytes; without a font the text is left out. */
export function svgPng(svg: string, font: ChartFont | null): Buffer {
  resvg ??= load('@resvg/resvg-js') as typeof ResvgJs;
  const png = new resvg.Resvg(svg, {
    background: '#ffffff',
    font: font
      ? { fontFiles: [font.file], loadSystemFonts: false, defaultFontFamily: font.family, sansSerifFamily: font.family }
      : { loadSystemFonts: false },
  });
  return Buffer.from(png.render().asPng());
}
