import type { Response } from 'express';
import { once } from 'node:events';
import { AppError, FormError } from './app-error';
import { csvLine } from './csv';

/**
 * The table tools of an offset-paged list (Policies, Drift findings, Backup sets): a search, a sort
 * by a whitelisted column, 25/50/100 rows a page, "1–25 of 412", and a streamed CSV. Each parser throws
 * a FormError naming its field, so the page shows the message beside its filter form (status 400).
 */

export const PAGE_SIZES = [25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 25;
/** The longest search text a list takes. */
export const MAX_SEARCH = 100;

export type SortDir = 'asc' | 'desc';

/** A list's sortable columns: their labels, the direction a first click sorts by, and the default. */
export interface SortSpec<K extends string> {
  labels: Record<K, string>;
  first: Record<K, SortDir>;
  default: { by: K; dir: SortDir };
}

export interface TableParams<K extends string> {
  search?: string;
  sort: { by: K; dir: SortDir };
  limit: number;
  page: number;
}

function single(q: Record<string, unknown>, key: string): string | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw AppError.invalid({ [key]: `"${key}" must be given once, as plain text.` });
  const t = v.trim();
  return t === '' ? undefined : t;
}

/** A search text: at most MAX_SEARCH characters, or a field error (never cut short silently). */
export function searchParam(q: Record<string, unknown>, key = 'q'): string | undefined {
  const s = single(q, key);
  if (s && s.length > MAX_SEARCH)
    throw AppError.invalid({
      [key]: `The search is at most ${MAX_SEARCH} characters (${s.length.toLocaleString('en-US')} were given).`,
    });
  return s;
}

export function sortParam<K extends string>(
  q: Record<string, unknown>,
  spec: SortSpec<K>,
): { by: K; dir: SortDir } {
  const keys = Object.keys(spec.labels) as K[];
  const sort = single(q, 'sort');
  const order = single(q, 'order');
  if (sort && !(keys as string[]).includes(sort))
    throw AppError.invalid({
      sort: `Unknown sort "${sort.slice(0, 30)}". Sort by one of: ${keys.join(', ')}.`,
    });
  if (order && order !== 'asc' && order !== 'desc')
    throw AppError.invalid({ order: '"order" must be "asc" (A to Z, smallest or oldest first) or "desc".' });
  const by = (sort as K | undefined) ?? spec.default.by;
  const dir = (order as SortDir | undefined) ?? (sort ? spec.first[by] : spec.default.dir);
  return { by, dir };
}

export function limitParam(q: Record<string, unknown>): number {
  const limit = single(q, 'limit');
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!(PAGE_SIZES as readonly number[]).map(String).includes(limit))
    throw AppError.invalid({
      limit: `"limit" must be ${PAGE_SIZES.join(', ').replace(/, (\d+)$/, ' or $1')} rows a page.`,
    });
  return Number(limit);
}

export function pageNumber(q: Record<string, unknown>): number {
  const page = single(q, 'page') ?? '1';
  if (!/^[1-9]\d{0,5}$/.test(page)) throw AppError.invalid({ page: '"page" must be a page number from 1.' });
  return Number(page);
}

/**
 * Reads every parameter with `read`, collecting each field's error instead of stopping at the first,
 * so the page can mark every input that needs fixing.
 */
export function fieldReader() {
  const errors: Record<string, string> = {};
  return {
    errors,
    /** `field` names the input a plain bad-request error (not a FormError) belongs to. */
    read<T>(f: () => T, fallback: T, field = 'filter'): T {
      try {
        return f();
      } catch (e) {
        if (e instanceof FormError) Object.assign(errors, e.fields);
        else if (e instanceof AppError && e.code === 'bad_request') errors[field] = e.message;
        else throw e;
        return fallback;
      }
    },
    get failed(): boolean {
      return Object.keys(errors).length > 0;
    },
  };
}

/** The common table parameters, each error collected by `reader`. */
export function tableParams<K extends string>(
  q: Record<string, unknown>,
  spec: SortSpec<K>,
  reader: ReturnType<typeof fieldReader>,
): TableParams<K> {
  return {
    search: reader.read(() => searchParam(q), undefined),
    sort: reader.read(() => sortParam(q, spec), spec.default),
    limit: reader.read(() => limitParam(q), DEFAULT_PAGE_SIZE),
    page: reader.read(() => pageNumber(q), 1),
  };
}

/** The query as typed, for the form shown again beside its error (only ever displayed, escaped). */
export function typedValues(q: Record<string, unknown>, keys: string[]): Record<string, string> {
  return Object.fromEntries(
    keys.map((k) => [k, typeof q[k] === 'string' ? (q[k] as string).slice(0, 300) : '']),
  );
}

/** The parameters that differ from the defaults, for links that keep them (sort, pages, CSV). */
export function tableQuery<K extends string>(
  p: Pick<TableParams<K>, 'sort' | 'limit' | 'search'>,
  spec: SortSpec<K>,
  filters: Record<string, string | undefined>,
  extra: Record<string, string | undefined> = {},
): string {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, q: p.search })) if (v) out.set(k, v);
  if (p.sort.by !== spec.default.by || p.sort.dir !== spec.default.dir) {
    out.set('sort', p.sort.by);
    out.set('order', p.sort.dir);
  }
  if (p.limit !== DEFAULT_PAGE_SIZE) out.set('limit', String(p.limit));
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out.set(k, v);
  const s = out.toString();
  return s ? `?${s}` : '';
}

export interface SortHeader {
  label: string;
  href: string;
  ariaSort: 'ascending' | 'descending' | null;
  arrow: string;
  title: string;
}

/** Each sortable header: a link to its sort (the current one flips), `aria-sort` on the sorted one. */
export function sortHeaders<K extends string>(
  spec: SortSpec<K>,
  current: { by: K; dir: SortDir },
  href: (sort: { by: K; dir: SortDir }) => string,
): Record<K, SortHeader> {
  const keys = Object.keys(spec.labels) as K[];
  return Object.fromEntries(
    keys.map((by) => {
      const on = current.by === by;
      const dir: SortDir = on ? (current.dir === 'asc' ? 'desc' : 'asc') : spec.first[by];
      const label = spec.labels[by];
      return [
        by,
        {
          label,
          href: href({ by, dir }),
          ariaSort: on ? (current.dir === 'asc' ? 'ascending' : 'descending') : null,
          arrow: on ? (current.dir === 'asc' ? '↑' : '↓') : '',
          title: `Sort by ${label.toLowerCase()}, ${dir === 'asc' ? 'ascending' : 'descending'}`,
        },
      ];
    }),
  ) as Record<K, SortHeader>;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** "1–25 of 412": where this page's rows sit in the whole list. Empty for an empty page. */
export function rangeText(offset: number, shown: number, total: number): string {
  if (!shown) return '';
  return `${fmt(offset + 1)}–${fmt(offset + shown)} of ${fmt(total)}`;
}

/** The page-size select's options, the current one chosen (a typed value shown as typed). */
export function pageSizeOptions(limit: string) {
  return PAGE_SIZES.map((n) => ({ value: n, selected: String(n) === limit }));
}

/**
 * Writes `batches` as CSV (RFC 4180, every cell formula-safe through csvLine): one batch in memory at a
 * time, waiting for the client to take each, stopping when it goes away. Headers go out with the first
 * batch, so an error before it is still an ordinary error page; one after it cuts the download short.
 */
export async function streamCsv(
  res: Response,
  filename: string,
  header: string[],
  batches: AsyncGenerator<unknown[][]>,
  onError: (e: unknown) => void,
): Promise<void> {
  const first = await batches.next();
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`);
  res.setHeader('Cache-Control', 'no-store');
  let closed = false;
  res.on('close', () => (closed = true));
  const write = async (text: string) => {
    if (!res.write(text) && !closed) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  try {
    await write(`${csvLine(header)}\r\n`);
    let batch = first;
    while (!batch.done && !closed) {
      if (batch.value.length) await write(`${batch.value.map(csvLine).join('\r\n')}\r\n`);
      batch = await batches.next();
    }
    res.end();
  } catch (e) {
    onError(e);
    res.destroy();
  } finally {
    if (closed) await batches.return(undefined);
  }
}

/** Offset batches of a sorted list (its ORDER BY ends in a unique tie-break, so no row is met twice). */
export async function* offsetBatches<T>(
  page: (offset: number, limit: number) => Promise<T[]>,
  size = 500,
): AsyncGenerator<T[]> {
  for (let offset = 0; ; offset += size) {
    const rows = await page(offset, size);
    if (rows.length) yield rows;
    if (rows.length < size) return;
  }
}

/** Each batch's rows as CSV cells. */
export async function* mapBatches<T>(
  batches: AsyncGenerator<T[]>,
  row: (t: T) => unknown[],
): AsyncGenerator<unknown[][]> {
  try {
    for await (const batch of batches) yield batch.map(row);
  } finally {
    await batches.return(undefined);
  }
}
