/**
 * Readers for raw row values, the same on both drivers: SQLite returns datetimes as UTC text and
 * JSON as text, MySQL returns BIGINT and COUNT as strings or numbers.
 */

export function readDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  const s = String(v);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
}

export function readJson<T>(v: unknown, fallback: T): T {
  if (v === null || v === undefined) return fallback;
  if (typeof v !== 'string') return v as T;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

/** A numeric column; null as 0. */
export const readNum = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export const readNumOrNull = (v: unknown): number | null =>
  v === null || v === undefined ? null : Number(v);

/** Splits work into batches, e.g. to keep IN lists and multi-row inserts bounded. */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `?, ?, ?` for an IN list of `n` values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}
