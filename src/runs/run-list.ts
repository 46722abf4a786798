import type { OperationRun } from './run';

/** The columns the Operations list sorts by. */
export const RUN_SORT_KEYS = ['created', 'duration', 'failed'] as const;
export type RunSortKey = (typeof RUN_SORT_KEYS)[number];

export interface RunSort {
  by: RunSortKey;
  dir: 'desc' | 'asc';
}

export const DEFAULT_SORT: RunSort = { by: 'created', dir: 'desc' };

/**
 * A keyset position: the sort key of the last row shown and its id (the tie-break). Lists by created
 * time keep a date; the others keep the column's number, or null for a run without one (a duration of
 * a run that has not ended).
 */
export type Cursor = { createdAt: Date; id: number } | { value: number | null; id: number };

/**
 * Where the rows of a sort fall: first those with a value (in the sort's order), then — for a column
 * that can be empty, the duration of an unfinished run — those without one, newest id first. Empty
 * values come last whichever way the column is sorted: nobody looks for "no duration yet" first.
 */
export type Segment = 'values' | 'nulls';

export const SORT_COLUMN: Record<RunSortKey, string> = {
  created: 'created_at',
  duration: 'duration_ms',
  failed: 'failed',
};

export function nullable(by: RunSortKey): boolean {
  return by === 'duration';
}

/** The run's value of the sort column (ms since the epoch for created). */
export function sortValue(run: OperationRun, by: RunSortKey): number | null {
  if (by === 'created') return run.createdAt.getTime();
  if (by === 'duration') return run.durationMs;
  return run.failed;
}

/** The keyset position just after this run, for the next page (or the CSV's next batch). */
export function cursorAfter(run: OperationRun, by: RunSortKey): Cursor {
  return by === 'created'
    ? { createdAt: run.createdAt, id: run.id }
    : { value: sortValue(run, by), id: run.id };
}

export function cursorValue(c: Cursor): number | null {
  return 'createdAt' in c ? c.createdAt.getTime() : c.value;
}

/** The segments of a sort in the order a walk meets them (backwards when paging to newer rows). */
export function segmentsOf(by: RunSortKey, forward: boolean): Segment[] {
  if (!nullable(by)) return ['values'];
  return forward ? ['values', 'nulls'] : ['nulls', 'values'];
}

/**
 * Whether the SQL walks the column upwards: a descending sort walked forwards goes down, and paging
 * back to newer rows walks it the other way.
 */
export function ascending(sort: RunSort, forward: boolean): boolean {
  return (sort.dir === 'asc') === forward;
}

/**
 * The order a walk meets rows in, for merging the lanes of one list (several tenants, several
 * targets): segment first, then the column, then the id, each in the walk's direction.
 */
export function walkOrder(sort: RunSort, forward: boolean): (a: OperationRun, b: OperationRun) => number {
  const segs = segmentsOf(sort.by, forward);
  const up = ascending(sort, forward);
  const seg = (r: OperationRun) => segs.indexOf(sortValue(r, sort.by) === null ? 'nulls' : 'values');
  return (a, b) => {
    const s = seg(a) - seg(b);
    if (s) return s;
    const va = sortValue(a, sort.by);
    const vb = sortValue(b, sort.by);
    const byValue = va === null || vb === null ? 0 : up ? va - vb : vb - va;
    return byValue || (up ? a.id - b.id : b.id - a.id);
  };
}
