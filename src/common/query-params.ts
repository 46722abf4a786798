import { AppError } from './app-error';

/**
 * Query and form values as pages accept them: one plain value each (arrays and objects from crafted
 * query strings are a readable 400), trimmed, bounded; empty means absent.
 */
export function textParam(v: unknown, key: string, max = 200): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw AppError.badRequest(`"${key}" must be given once.`);
  return v.trim().slice(0, max) || undefined;
}

/** A 1-based page number; absent means the first page. */
export function pageParam(v: unknown): number {
  const raw = textParam(v, 'page') ?? '1';
  if (!/^[1-9]\d{0,5}$/.test(raw)) throw AppError.badRequest('"page" must be a page number from 1.');
  return Number(raw);
}

/** Page count and the previous/next links of a paged list; `href(p)` is page p's address. */
export function pager(page: number, total: number, size: number, href: (p: number) => string) {
  const pages = Math.max(1, Math.ceil(total / size));
  return {
    page,
    pages,
    prevHref: page > 1 ? href(page - 1) : null,
    nextHref: page < pages ? href(page + 1) : null,
  };
}

/** An optional record id given in the query string. */
export function idParam(v: unknown, key: string, what: string): number | undefined {
  const raw = textParam(v, key);
  if (raw === undefined) return undefined;
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw AppError.badRequest(`"${key}" must be ${what}.`);
  return Number(raw);
}
