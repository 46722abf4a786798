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

const isoKept = new Map<number, string>();

/**
 * `d.toISOString()`, remembered by instant: list pages and the API write the same few thousand
 * timestamps again on every poll, and V8's own formatting is the dearest part of a run's JSON.
 */
function isoOf(d: Date): string {
  const t = d.getTime();
  let s = isoKept.get(t);
  if (s === undefined) {
    s = d.toISOString();
    if (isoKept.size >= 20_000) isoKept.clear();
    isoKept.set(t, s);
  }
  return s;
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

/**
 * The exact time for a hover or a secondary line: UTC, and when the viewer chose a time zone
 * (profile), their local time first with UTC beside it — "2026-11-26 10:08:07 Europe/Berlin ·
 * 2026-11-26 09:08:07 UTC".
 */
export function utcTime(v: unknown, timeZone?: string | null): string {
  const d = toDate(v);
  if (!d) return '';
  const utc = `${isoOf(d).slice(0, 19).replace('T', ' ')} UTC`;
  const local = timeZone && timeZone !== 'UTC' ? localTime(d, timeZone) : '';
  return local ? `${local} · ${utc}` : utc;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatIn(timeZone: string): Intl.DateTimeFormat | null {
  let f = formats.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      return null;
    }
    if (formats.size > 500) formats.clear();
    formats.set(timeZone, f);
  }
  return f;
}

/** "2026-11-26 10:08:07 Europe/Berlin"; empty for no date or a zone Intl does not know. */
export function localTime(v: unknown, timeZone: string): string {
  const d = toDate(v);
  const f = d && formatIn(timeZone);
  if (!d || !f) return '';
  const p = Object.fromEntries(f.formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${timeZone}`;
}

/**
 * The canonical IANA name of a time zone as typed ("europe/berlin" → "Europe/Berlin"), or null when
 * Intl does not know it. Offsets and abbreviations ("+02:00", "CET") are refused: only a named zone
 * follows daylight saving.
 */
export function canonicalTimeZone(input: string): string | null {
  const zone = input.trim();
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(zone)) return null;
  if (zone.toUpperCase() === 'UTC') return 'UTC';
  if (!zone.includes('/') || !formatIn(zone)) return null;
  // The spelling of the zone list ("europe/berlin" → "Europe/Berlin"); a valid alias stays as typed.
  zoneNames ??= new Map(Intl.supportedValuesOf('timeZone').map((z) => [z.toLowerCase(), z]));
  return zoneNames.get(zone.toLowerCase()) ?? zone;
}

let zoneNames: Map<string, string> | undefined;

/** An instant as ISO-8601 UTC ('' for no date). */
export function isoTime(v: unknown): string {
  const d = toDate(v);
  return d ? isoOf(d) : '';
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

const thousands = new Intl.NumberFormat('en-US');

/** "1,234"; small whole numbers (most counts on a page) without asking Intl. */
export function formatNumber(n: unknown): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return String(n ?? '');
  return Number.isInteger(n) && n > -1000 && n < 1000 ? String(n) : thousands.format(n);
}

export function percent(part: unknown, whole: unknown): number {
  const p = Number(part);
  const w = Number(whole);
  if (!w || !Number.isFinite(p) || !Number.isFinite(w)) return 0;
  return Math.max(0, Math.min(100, Math.floor((p / w) * 100)));
}
