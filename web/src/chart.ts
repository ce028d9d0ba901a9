// Charts of a result, drawn by ECharts: line/area over a time column (stacked by a
// further key), bars for one key, a Sankey diagram for two address keys. The kind
// follows the query's shape (from the compiler; inferred from column types when the
// server gives none) unless the user picks another.

import { BarChart, LineChart, SankeyChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import type { ChartKind, Result, Shape } from './api';
import { formatTime } from './format';

echarts.use([LineChart, BarChart, SankeyChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, MarkLineComponent, SVGRenderer]);

// Threshold is a horizontal line over a time chart (an alarm's threshold).
export interface Threshold {
  value: number;
  label: string;
}

const MAX_SERIES = 10;
const MAX_BARS = 30;
const MAX_LINKS = 60;

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
const full = new Intl.NumberFormat('en');
const ipLike = /^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-f:]+:[0-9a-f:.]*$/i;

// shapeOf returns the server's shape, or one inferred from the column types.
export function shapeOf(r: Result): Shape {
  const names = new Set(r.columns.map((c) => c.name));
  if (r.shape) {
    const s = r.shape;
    return {
      timeColumn: s.timeColumn && names.has(s.timeColumn) ? s.timeColumn : null,
      keys: (s.keys || []).filter((k) => names.has(k)),
      values: (s.values || []).filter((v) => names.has(v)),
      addressKeys: (s.addressKeys || []).filter((k) => names.has(k)),
    };
  }
  const time = r.columns.find((c) => c.type === 'time');
  const keys = r.columns.filter((c) => c.type !== 'number' && c !== time).map((c) => c.name);
  const values = r.columns.filter((c) => c.type === 'number').map((c) => c.name);
  const addressKeys = keys.filter((k) => {
    const i = r.columns.findIndex((c) => c.name === k);
    const sample = r.rows.slice(0, 20).map((row) => row[i]).filter((v) => v !== null);
    return sample.length > 0 && sample.every((v) => typeof v === 'string' && ipLike.test(v));
  });
  return { timeColumn: time ? time.name : null, keys, values, addressKeys };
}

function valueColumns(r: Result, s: Shape): string[] {
  const vals = s.values.filter((v) => r.columns.find((c) => c.name === v)?.type !== 'string');
  if (vals.length) return vals;
  return r.columns.filter((c) => c.type === 'number' && !s.keys.includes(c.name)).map((c) => c.name);
}

// autoChart is the chart the shape asks for.
export function autoChart(r: Result): Exclude<ChartKind, 'auto'> {
  if (!r.rows.length) return 'table';
  const s = shapeOf(r);
  const vals = valueColumns(r, s);
  if (s.timeColumn && vals.length) return 'line';
  const keys = s.keys.filter((k) => k !== s.timeColumn);
  if (keys.length === 1 && vals.length) return 'bar';
  if (s.addressKeys.length >= 2 && vals.length) return 'sankey';
  return 'table';
}

// possible lists the charts that can draw r.
export function possible(r: Result): Exclude<ChartKind, 'auto'>[] {
  const s = shapeOf(r);
  const vals = valueColumns(r, s);
  const out: Exclude<ChartKind, 'auto'>[] = [];
  if (vals.length && r.rows.length) {
    if (s.timeColumn) out.push('line', 'area');
    out.push('bar');
    const strings = r.columns.filter((c) => c.type === 'string').length;
    if (s.addressKeys.length >= 2 || strings >= 2) out.push('sankey');
  }
  out.push('table');
  return out;
}

const col = (r: Result, name: string) => r.columns.findIndex((c) => c.name === name);
const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0) || 0;
const label = (v: unknown) => (v === null || v === undefined ? '(empty)' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function timeOption(r: Result, s: Shape, area: boolean, utc: boolean): echarts.EChartsCoreOption {
  const ti = col(r, s.timeColumn!);
  const vals = valueColumns(r, s);
  const groups = s.keys.filter((k) => k !== s.timeColumn).map((k) => col(r, k)).filter((i) => i >= 0);
  const rows = [...r.rows].sort((a, b) => String(a[ti]).localeCompare(String(b[ti])));
  let series: { name: string; data: [number, number][] }[];
  if (groups.length) {
    const vi = col(r, vals[0]);
    const byGroup = new Map<string, Map<number, number>>();
    const totals = new Map<string, number>();
    for (const row of rows) {
      const g = groups.map((i) => label(row[i])).join(' / ');
      const t = Date.parse(String(row[ti]));
      if (!byGroup.has(g)) byGroup.set(g, new Map());
      const m = byGroup.get(g)!;
      m.set(t, (m.get(t) || 0) + num(row[vi]));
      totals.set(g, (totals.get(g) || 0) + num(row[vi]));
    }
    const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map((e) => e[0]);
    const keep = ranked.slice(0, MAX_SERIES);
    const other = new Map<number, number>();
    for (const g of ranked.slice(MAX_SERIES)) for (const [t, v] of byGroup.get(g)!) other.set(t, (other.get(t) || 0) + v);
    const times = [...new Set(rows.map((row) => Date.parse(String(row[ti]))))].sort((a, b) => a - b);
    const fill = (m: Map<number, number>) => times.map((t) => [t, m.get(t) || 0] as [number, number]);
    series = keep.map((g) => ({ name: g, data: fill(byGroup.get(g)!) }));
    if (other.size) series.push({ name: 'other', data: fill(other) });
  } else {
    series = vals.map((v) => {
      const vi = col(r, v);
      return { name: v, data: rows.map((row) => [Date.parse(String(row[ti])), num(row[vi])] as [number, number]) };
    });
  }
  return {
    useUTC: utc,
    animation: false,
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: unknown) => (typeof v === 'number' ? full.format(v) : String(v)),
    },
    legend: series.length > 1 ? { type: 'scroll', top: 0 } : undefined,
    grid: { left: 60, right: 20, top: series.length > 1 ? 36 : 16, bottom: 50 },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', axisLabel: { formatter: (v: number) => compact.format(v) } },
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 6 }],
    series: series.map((x) => ({
      name: x.name,
      type: 'line',
      showSymbol: x.data.length < 2,
      data: x.data,
      ...(area ? { stack: 'total', areaStyle: { opacity: 0.6 }, lineStyle: { width: 1 } } : {}),
    })),
  };
}

function barOption(r: Result, s: Shape, utc: boolean): echarts.EChartsCoreOption {
  const vals = valueColumns(r, s).slice(0, 3);
  let keys = s.keys.filter((k) => k !== s.timeColumn);
  if (!keys.length) keys = r.columns.filter((c) => !vals.includes(c.name)).map((c) => c.name).slice(0, 1);
  const ki = keys.map((k) => col(r, k));
  const rows = r.rows.slice(0, MAX_BARS);
  const cats = rows.map((row, n) =>
    ki.length
      ? ki.map((i) => (r.columns[i].type === 'time' ? formatTime(String(row[i]), utc) : label(row[i]))).join(' / ')
      : String(n + 1),
  );
  return {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: unknown) => (typeof v === 'number' ? full.format(v) : String(v)) },
    legend: vals.length > 1 ? { top: 0 } : undefined,
    grid: { left: 8, right: 30, top: vals.length > 1 ? 30 : 10, bottom: 20, containLabel: true },
    yAxis: { type: 'category', data: cats, inverse: true, axisLabel: { width: 220, overflow: 'truncate' } },
    xAxis: { type: 'value', axisLabel: { formatter: (v: number) => compact.format(v) } },
    series: vals.map((v) => {
      const vi = col(r, v);
      return { name: v, type: 'bar', data: rows.map((row) => num(row[vi])) };
    }),
  };
}

function sankeyOption(r: Result, s: Shape): echarts.EChartsCoreOption {
  let ends = s.addressKeys.slice(0, 2);
  if (ends.length < 2) ends = r.columns.filter((c) => c.type === 'string').map((c) => c.name).slice(0, 2);
  const [si, di] = ends.map((e) => col(r, e));
  const vals = valueColumns(r, s);
  const vi = vals.length ? col(r, vals[0]) : -1;
  // Sources and destinations are separate nodes (prefixes s:/d:), so that traffic in
  // both directions between two hosts does not make a cycle.
  const links = new Map<string, number>();
  for (const row of r.rows.slice(0, MAX_LINKS)) {
    const k = `s:${label(row[si])}\u0000d:${label(row[di])}`;
    links.set(k, (links.get(k) || 0) + (vi >= 0 ? num(row[vi]) : 1));
  }
  const nodes = new Set<string>();
  const data = [...links.entries()].map(([k, v]) => {
    const [source, target] = k.split('\u0000');
    nodes.add(source);
    nodes.add(target);
    return { source, target, value: v };
  });
  const strip = (n: string) => n.slice(2);
  return {
    animation: false,
    tooltip: {
      trigger: 'item',
      formatter: (p: { dataType?: string; name: string; value: number; data: { source?: string; target?: string } }) =>
        p.dataType === 'edge'
          ? `${strip(p.data.source!)} → ${strip(p.data.target!)}: ${full.format(p.value)}`
          : `${strip(p.name)}: ${full.format(p.value)}`,
    },
    series: [
      {
        type: 'sankey',
        left: 10,
        right: 130,
        top: 10,
        bottom: 10,
        nodeGap: 6,
        emphasis: { focus: 'adjacency' },
        lineStyle: { color: 'gradient', curveness: 0.5, opacity: 0.4 },
        label: { formatter: (p: { name: string }) => strip(p.name), fontSize: 11 },
        data: [...nodes].map((name) => ({ name })),
        links: data,
      },
    ],
  };
}

// ChartView draws one result into its element.
export class ChartView {
  readonly el: HTMLDivElement;
  private chart: echarts.ECharts | null = null;
  private readonly ro: ResizeObserver;

  constructor(cls = 'chart') {
    this.el = document.createElement('div');
    this.el.className = cls;
    this.ro = new ResizeObserver(() => this.chart?.resize());
    this.ro.observe(this.el);
  }

  // render draws r as kind (resolving 'auto'); it returns the kind drawn ('table'
  // means nothing is drawn).
  render(r: Result, kind: ChartKind, utc: boolean, thresholds: Threshold[] = []): Exclude<ChartKind, 'auto'> {
    let k = kind === 'auto' ? autoChart(r) : kind;
    if (!possible(r).includes(k)) k = autoChart(r);
    this.el.dataset.chart = k;
    if (k === 'table') {
      this.chart?.clear();
      this.el.hidden = true;
      return k;
    }
    this.el.hidden = false;
    if (!this.chart) this.chart = echarts.init(this.el, null, { renderer: 'svg' });
    const s = shapeOf(r);
    const opt = k === 'line' || k === 'area' ? timeOption(r, s, k === 'area', utc) : k === 'bar' ? barOption(r, s, utc) : sankeyOption(r, s);
    const all = opt.series as Record<string, unknown>[];
    if (thresholds.length && (k === 'line' || k === 'area') && all.length) {
      all[0].markLine = {
        silent: true,
        symbol: 'none',
        lineStyle: { type: 'dashed', color: '#c0392b' },
        label: { formatter: (p: { name: string }) => p.name, position: 'insideEndTop' },
        data: thresholds.map((t) => ({ yAxis: t.value, name: t.label })),
      };
    }
    this.chart.setOption(opt, { notMerge: true });
    const series = all.length;
    this.el.dataset.series = String(series);
    this.chart.resize();
    return k;
  }

  dispose(): void {
    this.ro.disconnect();
    this.chart?.dispose();
    this.chart = null;
  }
}
