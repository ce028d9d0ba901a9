// Result downloads: CSV (RFC 4180: header row, CRLF line ends, fields with a
// comma, quote or line break quoted, quotes doubled) and JSON (an array of objects).

import type { Result, Value } from './api';

function csvField(v: Value): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCSV(r: Pick<Result, 'columns' | 'rows'>): string {
  const lines = [r.columns.map((c) => csvField(c.name)).join(',')];
  for (const row of r.rows) lines.push(row.map(csvField).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function toJSON(r: Pick<Result, 'columns' | 'rows'>): string {
  const objs = r.rows.map((row) => {
    const o: Record<string, Value> = {};
    r.columns.forEach((c, i) => (o[c.name] = row[i] ?? null));
    return o;
  });
  return JSON.stringify(objs, null, 2) + '\n';
}
