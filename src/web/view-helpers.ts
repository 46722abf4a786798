/** Display helpers for the Handlebars views: formatting only, no data access. */

const UNITS: Array<[number, string]> = [
  [60, 's'],
  [60, 'min'],
  [24, 'h'],
  [30, 'd'],
  [12, 'mo'],
  [Number.POSITIVE_INFINITY, 'y'],
];

function toDate(v: unknown): Date | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  if (typeof v === 'string' || typeof v === 'number') {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

export function relativeTime(v: unknown, now = Date.now()): string {
  const d = toDate(v);
  if (!d) return '—';
  let delta = Math.round((now - d.getTime()) / 1000);
  const future = delta < 0;
  delta = Math.abs(delta);
  if (delta < 5) return 'just now';
  let value = delta;
  for (const [size, unit] of UNITS) {
    if (value < size) return future ? `in ${value} ${unit}` : `${value} ${unit} ago`;
    value = Math.floor(value / size);
  }
  return d.toISOString();
}

export function utcTime(v: unknown): string {
  const d = toDate(v);
  return d ? `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC` : '';
}

export function isoTime(v: unknown): string {
  const d = toDate(v);
  return d ? d.toISOString() : '';
}

/** "1 h 4 min", "12.3 s", "850 ms". */
export function humanDuration(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function formatNumber(n: unknown): string {
  return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : String(n ?? '');
}

export function percent(part: unknown, whole: unknown): number {
  const p = Number(part);
  const w = Number(whole);
  if (!w || !Number.isFinite(p) || !Number.isFinite(w)) return 0;
  return Math.max(0, Math.min(100, Math.floor((p / w) * 100)));
}
