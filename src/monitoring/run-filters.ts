import { AppError, FormError } from '../common/app-error';
import {
  BUCKETS,
  REASON_CODES,
  RUN_SORT_KEYS,
  splitRunType,
  type Cursor,
  type ReasonCode,
  type RunListFilter,
  type RunSort,
  type RunSortKey,
  type StatusBucket,
} from '../runs';

export const PRESETS = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
export type Preset = keyof typeof PRESETS;

/** Rows a page shows unless `limit` says otherwise (the page offers 25, 50 and 100). */
export const PAGE_SIZE = 25;
export const PAGE_SIZES = [25, 50, 100] as const;
/** The longest search text: a run id, or the start of a target's name. */
export const MAX_SEARCH = 100;

export interface RunFilters {
  type?: string;
  bucket?: StatusBucket;
  preset?: Preset;
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** Runs whose row shows this reason. */
  reason?: ReasonCode;
  /** Runs the signed-in user started, system runs, or one user's. */
  initiator?: 'me' | 'system' | number;
  /** A run id, or the start of a target's name (any case). */
  search?: string;
  /** Newest first when absent. */
  sort?: RunSort;
  cursor?: Cursor;
  direction: 'older' | 'newer';
  limit: number;
  /** Where this page starts in the list (0-based), for "26–50 of 412": the pager carries it along. */
  pos?: number;
}

/**
 * A filter value the list cannot use: a readable 400 that names its field, so the page can show the
 * message beside the filter form with what was typed kept (the API answers its message as before).
 */
function bad(field: string, message: string): FormError {
  return AppError.invalid({ [field]: message });
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

function single(query: Record<string, unknown>, key: string): string | undefined {
  const v = query[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(key, `"${key}" must be given once, as plain text.`);
  const t = v.trim();
  return t === '' ? undefined : t;
}

/**
 * A date ("2026-11-26", the whole day in UTC) or a date-time ("2026-11-26T14:30", UTC unless it
 * carries an offset). `end` makes a date-only value mean the end of that day.
 */
export function parseInstant(value: string, key: string, end: boolean): Date {
  const help = `"${key}" must be a date like 2026-11-26 or a date and time like 2026-11-26T14:30 (UTC)`;
  if (value.length > 40) throw bad(key, `${help}.`);
  let d: Date;
  const dateOnly = DATE_ONLY.exec(value);
  if (dateOnly) {
    const [, y, m, day] = dateOnly.map(Number);
    d = new Date(Date.UTC(y, m - 1, day + (end ? 1 : 0)));
    if (new Date(Date.UTC(y, m - 1, day)).getUTCDate() !== day)
      throw bad(key, `${help}; "${value}" is not a calendar date.`);
  } else {
    const dt = DATE_TIME.exec(value);
    if (!dt) throw bad(key, `${help}; got "${value}".`);
    const zone = dt[8] ?? 'Z';
    d = new Date(
      `${dt[1]}-${dt[2]}-${dt[3]}T${dt[4]}:${dt[5]}:${dt[6] ?? '00'}.${(dt[7] ?? '0').padEnd(3, '0')}${zone === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`,
    );
    if (Number(dt[2]) > 12 || Number(dt[3]) > 31 || Number(dt[4]) > 23 || Number(dt[5]) > 59) {
      throw bad(key, `${help}; "${value}" is not a valid time.`);
    }
  }
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9999) {
    throw bad(key, `${help}; "${value}" is out of range.`);
  }
  return d;
}

/**
 * A keyset position as the pager and the API hand it out: `<ms>.<id>` for the default sort by created
 * time, `v<value>.<id>` (`vn` for a run without a value) for the others.
 */
export function encodeCursor(c: Cursor): string {
  const text = 'createdAt' in c ? `${c.createdAt.getTime()}.${c.id}` : `v${c.value ?? 'n'}.${c.id}`;
  return Buffer.from(text).toString('base64url');
}

/** A cursor of the list's sort, or a 400 (a cursor of another sort cannot say where to go on). */
export function decodeCursor(raw: string, by: RunSortKey = 'created'): Cursor {
  const invalid = bad(
    'cursor',
    'The page cursor is not valid (it may be from an older link); start again from the first page.',
  );
  if (raw.length > 64 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw invalid;
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  if (by === 'created') {
    const m = /^(\d{1,15})\.(\d{1,15})$/.exec(text);
    if (!m) throw invalid;
    return { createdAt: new Date(Number(m[1])), id: Number(m[2]) };
  }
  const m = /^v(\d{1,15}|n)\.(\d{1,15})$/.exec(text);
  if (!m || (m[1] === 'n' && by !== 'duration')) throw invalid;
  return { value: m[1] === 'n' ? null : Number(m[1]), id: Number(m[2]) };
}

/**
 * Turns the Operations list's query string (page and API alike) into filters, or a 400 that says what
 * is wrong: unknown type or status, malformed dates, from after to, a broken cursor.
 */
export function parseRunFilters(
  query: Record<string, unknown>,
  knownTypes: ReadonlySet<string>,
  opts: { defaultLimit: number; maxLimit: number; now?: Date },
): RunFilters {
  const now = opts.now ?? new Date();
  const f: RunFilters = { direction: 'older', limit: opts.defaultLimit };

  const type = single(query, 'type');
  if (type) {
    if (!knownTypes.has(type)) {
      const known = [...knownTypes].sort().join(', ') || 'none yet';
      throw bad('type', `Unknown run type "${type.slice(0, 60)}". Known types: ${known}.`);
    }
    f.type = type;
  }

  const status = single(query, 'status');
  if (status) {
    if (!(BUCKETS as readonly string[]).includes(status)) {
      throw bad('status', `Unknown status "${status.slice(0, 60)}". Use one of: ${BUCKETS.join(', ')}.`);
    }
    f.bucket = status as StatusBucket;
  }

  const preset = single(query, 'preset');
  const from = single(query, 'from');
  const to = single(query, 'to');
  if (preset) {
    if (!(preset in PRESETS))
      throw bad('preset', `Unknown time preset "${preset.slice(0, 20)}". Use 24h, 7d or 30d.`);
    if (from || to) throw bad('preset', 'Choose either a time preset or a from/to range, not both.');
    f.preset = preset as Preset;
    // From the start of the minute: every view within a minute (the live refresh, the next page) asks
    // about the same runs, so its total can be kept (RunsQueryService.total).
    f.from = new Date(Math.floor((now.getTime() - PRESETS[f.preset]) / 60_000) * 60_000);
  }
  if (from) f.from = parseInstant(from, 'from', false);
  if (to) f.to = parseInstant(to, 'to', true);
  if (f.from && f.to && f.from.getTime() >= f.to.getTime()) {
    throw bad('from', '"from" must be before "to".');
  }

  const reason = single(query, 'reason');
  if (reason) {
    if (!(REASON_CODES as readonly string[]).includes(reason))
      throw bad(
        'reason',
        `Unknown failure reason "${reason.slice(0, 60)}". Use one of: ${REASON_CODES.join(', ')}.`,
      );
    f.reason = reason as ReasonCode;
  }

  const initiator = single(query, 'initiator');
  if (initiator) {
    if (initiator === 'me' || initiator === 'system') f.initiator = initiator;
    else if (/^[1-9]\d{0,14}$/.test(initiator)) f.initiator = Number(initiator);
    else
      throw bad(
        'initiator',
        '"initiator" must be "me" (your runs), "system" (runs nobody started) or a user id.',
      );
  }

  const search = single(query, 'q');
  if (search) {
    if (search.length > MAX_SEARCH)
      throw bad('q', `The search is at most ${MAX_SEARCH} characters: a run id or the start of a name.`);
    f.search = search;
  }

  const sort = single(query, 'sort');
  const order = single(query, 'order');
  if (sort && !(RUN_SORT_KEYS as readonly string[]).includes(sort))
    throw bad('sort', `Unknown sort "${sort.slice(0, 30)}". Sort by one of: ${RUN_SORT_KEYS.join(', ')}.`);
  if (order && order !== 'asc' && order !== 'desc')
    throw bad('order', '"order" must be "desc" (largest or newest first) or "asc".');
  if ((sort && sort !== 'created') || order === 'asc')
    f.sort = { by: (sort ?? 'created') as RunSortKey, dir: (order ?? 'desc') as 'asc' | 'desc' };

  const cursor = single(query, 'cursor');
  const newer = single(query, 'newer');
  if (cursor && newer) throw bad('cursor', 'Give either "cursor" or "newer", not both.');
  const by = f.sort?.by ?? 'created';
  if (cursor) f.cursor = decodeCursor(cursor, by);
  if (newer) {
    f.cursor = decodeCursor(newer, by);
    f.direction = 'newer';
  }

  const pos = single(query, 'pos');
  if (pos) {
    if (!/^\d{1,9}$/.test(pos)) throw bad('pos', '"pos" must be a row number from 0.');
    if (Number(pos) > 0) f.pos = Number(pos);
  }

  const limit = single(query, 'limit');
  if (limit) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > opts.maxLimit) {
      throw bad('limit', `"limit" must be a whole number from 1 to ${opts.maxLimit}.`);
    }
    f.limit = Number(limit);
  }
  return f;
}

/** The filters as the runs query takes them; "me" is the signed-in user. */
export function toListFilter(tenantId: number, f: RunFilters, me?: number): RunListFilter {
  return {
    tenantId,
    type: f.type ? splitRunType(f.type) : undefined,
    bucket: f.bucket,
    reason: f.reason,
    initiator:
      f.initiator === undefined
        ? undefined
        : { userId: f.initiator === 'system' ? null : f.initiator === 'me' ? (me ?? -1) : f.initiator },
    from: f.from,
    to: f.to,
    sort: f.sort,
    cursor: f.cursor,
    direction: f.direction,
    limit: f.limit,
  };
}

/** Every filter but time and paging, as query parameters: what the presets and saved views keep. */
export function keptFilters(f: RunFilters): Record<string, string> {
  const o: Record<string, string> = {};
  if (f.type) o.type = f.type;
  if (f.bucket) o.status = f.bucket;
  if (f.reason) o.reason = f.reason;
  if (f.initiator !== undefined) o.initiator = String(f.initiator);
  if (f.search) o.q = f.search;
  if (f.sort) {
    o.sort = f.sort.by;
    if (f.sort.dir === 'asc') o.order = 'asc';
  }
  if (f.limit !== PAGE_SIZE) o.limit = String(f.limit);
  return o;
}

/** The filters as query parameters, for links that keep them (pager, sort, live refresh, CSV). */
export function filterQuery(f: RunFilters, extra: Record<string, string | undefined> = {}): string {
  const p = new URLSearchParams();
  if (f.type) p.set('type', f.type);
  if (f.bucket) p.set('status', f.bucket);
  if (f.preset) p.set('preset', f.preset);
  else {
    if (f.from) p.set('from', f.from.toISOString());
    if (f.to) p.set('to', f.to.toISOString());
  }
  for (const [k, v] of Object.entries(keptFilters(f))) if (k !== 'type' && k !== 'status') p.set(k, v);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}
