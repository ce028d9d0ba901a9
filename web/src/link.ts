// The state of the query page as a URL fragment, so that a link can be shared and
// still opens the same question later: #/query?q=…&lang=…&ds=a,b&since=1h&chart=bar
// (or start=…&end=… for an absolute range, RFC 3339). The token is never part of it.

import type { ChartKind, Language, Range } from './api';

export interface QueryState {
  query: string;
  language: Language;
  datasets: string[];
  range: Range;
  chart: ChartKind;
  utc: boolean;
}

const charts: ChartKind[] = ['auto', 'line', 'area', 'bar', 'sankey', 'table'];

export function encodeState(s: QueryState): string {
  const p = new URLSearchParams();
  p.set('q', s.query);
  if (s.language !== 'insights') p.set('lang', s.language);
  if (s.datasets.length) p.set('ds', s.datasets.join(','));
  if (s.range.since) p.set('since', s.range.since);
  else {
    if (s.range.start) p.set('start', s.range.start);
    if (s.range.end) p.set('end', s.range.end);
  }
  if (!s.range.since && !s.range.start && !s.range.end) p.set('since', 'all');
  if (s.chart !== 'auto') p.set('chart', s.chart);
  if (!s.utc) p.set('tz', 'local');
  return `#/query?${p.toString()}`;
}

// decodeState reads the parameters of a #/query fragment; missing ones keep the
// defaults given.
export function decodeState(params: URLSearchParams, defaults: QueryState): QueryState {
  const s: QueryState = { ...defaults, range: { ...defaults.range } };
  const q = params.get('q');
  if (q !== null) s.query = q;
  const lang = params.get('lang');
  if (lang === 'sql' || lang === 'insights') s.language = lang;
  const ds = params.get('ds');
  if (ds !== null) s.datasets = ds.split(',').filter(Boolean);
  const since = params.get('since');
  const start = params.get('start');
  const end = params.get('end');
  if (since === 'all') s.range = {};
  else if (since) s.range = { since };
  else if (start || end) s.range = { ...(start ? { start } : {}), ...(end ? { end } : {}) };
  const chart = params.get('chart') as ChartKind | null;
  if (chart && charts.includes(chart)) s.chart = chart;
  const tz = params.get('tz');
  if (tz) s.utc = tz !== 'local';
  return s;
}

// route splits location.hash into a path and its parameters.
export function route(hash: string): { path: string; params: URLSearchParams } {
  const h = hash.replace(/^#/, '') || '/';
  const i = h.indexOf('?');
  return i < 0
    ? { path: h, params: new URLSearchParams() }
    : { path: h.slice(0, i), params: new URLSearchParams(h.slice(i + 1)) };
}
