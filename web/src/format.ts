// Formatting of values for people: times in UTC or local time, counts, bytes.

import type { Value } from './api';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

// formatTime prints an RFC 3339 time as "2024-05-31 00:05:00" in UTC or local time.
export function formatTime(v: string, utc: boolean): string {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return v;
  const [y, mo, da, hh, mi, ss, ms] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
  const frac = ms ? `.${pad(ms, 3)}` : '';
  return `${y}-${pad(mo)}-${pad(da)} ${pad(hh)}:${pad(mi)}:${pad(ss)}${frac}`;
}

// toInputValue prints a time for a datetime-local input, in UTC or local time.
export function toInputValue(iso: string, utc: boolean): string {
  const s = formatTime(iso, utc);
  return s.slice(0, 16).replace(' ', 'T');
}

// fromInputValue reads a datetime-local input's value as UTC or local time → RFC 3339.
export function fromInputValue(v: string, utc: boolean): string | null {
  if (!v) return null;
  const d = utc ? new Date(v.length === 16 ? `${v}:00Z` : `${v}Z`) : new Date(v);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace('.000Z', 'Z');
}

export function formatCount(n: number | undefined): string {
  if (n === undefined || n === null) return '–';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined || n === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60000);
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
}

// cellText prints a result value for the table.
export function cellText(v: Value, type: string, utc: boolean): string {
  if (v === null || v === undefined) return '';
  if (type === 'time' && typeof v === 'string') return formatTime(v, utc);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// byteToIndex converts a byte offset into UTF-8 text (as the server reports
// positions) to an index into the JavaScript string.
export function byteToIndex(s: string, byteOffset: number): number {
  let bytes = 0;
  let i = 0;
  while (i < s.length && bytes < byteOffset) {
    const cp = s.codePointAt(i)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp > 0xffff ? 2 : 1;
  }
  return i;
}
