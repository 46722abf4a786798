import { Injectable } from '@nestjs/common';
import { BUCKETS, StatusBucket } from './run-status';
import { RunCounters } from './run-counters';
import { cursorAfter, cursorValue, DEFAULT_SORT, segmentsOf, walkOrder } from './run-list';
import { rollupDay } from './run-rollup';
import { OperationRun } from './run';
import { RunListFilter, RunsRepository } from './runs.repository';

export interface RunPage {
  rows: OperationRun[];
  /** There are rows beyond this page in the direction of travel. */
  hasMore: boolean;
}

/** How many runs a list holds: exactly `n`, or (`exact` false) more than `n`. */
export interface RunTotal {
  n: number;
  exact: boolean;
}

export interface DayCounts {
  day: string;
  /** Runs by bucket; `failed` includes the cancelled runs (their bucket). */
  counts: Record<StatusBucket, number>;
  /** Of the failed ones, those an operator cancelled. */
  cancelled: number;
}

/** Past this many, a total the counters cannot give is "more than 1,000": counting on would scan runs. */
export const COUNT_CAP = 1000;
/** A search names at most this many targets (in name order); more is a sign to type more of the name. */
export const SEARCH_TARGETS = 10;

const DAY_MS = 86_400_000;

/** A UTC midnight, as the counters' day; undefined for any other instant. */
function wholeDay(d: Date | undefined): string | undefined {
  return d && d.getTime() % DAY_MS === 0 ? rollupDay(d) : undefined;
}

/**
 * Reads for Monitoring → Operations and the runs API. Lists are keyset-paged over one index range per
 * lane (RunsRepository.lanes), totals and chart figures come from the counters the hub keeps as runs
 * change bucket — never from scanning runs.
 */
@Injectable()
export class RunsQueryService {
  constructor(
    private readonly repo: RunsRepository,
    private readonly counters: RunCounters,
  ) {}

  /**
   * A page: each lane walks its index range (segment by segment for a sort with empty values) for
   * one row more than the page, and the lanes' rows are merged in the sort's order.
   */
  async list(filter: RunListFilter, full = false): Promise<RunPage> {
    const sort = filter.sort ?? DEFAULT_SORT;
    const forward = filter.direction !== 'newer';
    const want = filter.limit + 1;
    const segments = segmentsOf(sort.by, forward);
    const first = filter.cursor
      ? segments.indexOf(cursorValue(filter.cursor) === null ? 'nulls' : 'values')
      : 0;
    const lanes = await Promise.all(
      this.repo.lanes(filter).map(async (lane) => {
        const rows: OperationRun[] = [];
        for (let i = Math.max(first, 0); i < segments.length && rows.length < want; i++) {
          const cursor = i === first ? filter.cursor : undefined;
          rows.push(
            ...(await this.repo.listLane(filter, lane, segments[i], cursor, want - rows.length, full)),
          );
        }
        return rows;
      }),
    );
    const merged = lanes.flat().sort(walkOrder(sort, forward));
    const rows = merged.slice(0, filter.limit);
    if (!forward) rows.reverse();
    return { rows, hasMore: merged.length > filter.limit };
  }

  /** Every matching run, in the list's order, a batch at a time (the CSV export: any size, little memory). */
  async *batches(filter: RunListFilter, size = 500): AsyncGenerator<OperationRun[]> {
    const by = (filter.sort ?? DEFAULT_SORT).by;
    let cursor = undefined;
    for (;;) {
      const page = await this.list({ ...filter, cursor, direction: 'older', limit: size });
      if (page.rows.length) yield page.rows;
      if (!page.hasMore) return;
      cursor = cursorAfter(page.rows[page.rows.length - 1], by);
    }
  }

  /**
   * How many runs the filters match. The counters answer for tenants, type, the ended buckets and
   * whole UTC days; anything else (a search, a reason, an initiator, queued or running, a time of day)
   * is counted on its own index range up to COUNT_CAP, and beyond that the total is "more than".
   */
  async total(filter: RunListFilter): Promise<RunTotal> {
    const fromDay = wholeDay(filter.from);
    const toDay = wholeDay(filter.to);
    const counted =
      !filter.search &&
      !filter.reason &&
      !filter.initiator &&
      filter.bucket !== 'queued' &&
      filter.bucket !== 'running' &&
      (!filter.from || fromDay) &&
      (!filter.to || toDay);
    if (counted) {
      // This process's latest changes first, so a run it just started or ended is in the figure.
      await this.counters.flush();
      const n = await this.repo.countFromCounters({
        tenantIds: filter.tenantIds ?? [filter.tenantId],
        type: filter.type,
        bucket: filter.bucket,
        fromDay,
        toDay,
      });
      return { n, exact: true };
    }
    const { n, capped } = await this.repo.countUpTo(filter, COUNT_CAP);
    return { n, exact: !capped };
  }

  /** What a search names: a run id (digits, with or without "#"), and targets whose name starts with it. */
  async resolveSearch(tenantIds: number[], text: string): Promise<NonNullable<RunListFilter['search']>> {
    const id = /^#?(\d{1,15})$/.exec(text);
    const targets = await this.repo.targetsStartingWith(tenantIds, text, SEARCH_TARGETS);
    return { ...(id && Number(id[1]) > 0 ? { id: Number(id[1]) } : {}), targets };
  }

  /** The SQL a list page runs first (what the benchmark EXPLAINs). */
  listQuery(filter: RunListFilter, full = false): { sql: string; params: unknown[] } {
    return this.repo.listQuery(filter, full);
  }

  get(tenantId: number, id: number): Promise<OperationRun | null> {
    return this.repo.inTenant(tenantId, id);
  }

  /** Children of a run (retries), newest first. */
  children(tenantId: number, parentId: number): Promise<OperationRun[]> {
    return this.repo.children(tenantId, parentId);
  }

  /** Runs per day and bucket for the last `days` UTC days (today included), from the counters. */
  async perDay(tenantId: number, days: number, now = new Date()): Promise<DayCounts[]> {
    const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
    const raw = await this.repo.dailyCounts(tenantId, rollupDay(first));
    const byDay = new Map<string, DayCounts>();
    for (let i = 0; i < days; i++) {
      const day = rollupDay(new Date(first.getTime() + i * 86_400_000));
      const counts = Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Record<StatusBucket, number>;
      byDay.set(day, { day, counts, cancelled: 0 });
    }
    for (const r of raw) {
      const d = byDay.get(r.day);
      const n = Math.max(0, r.n);
      if (!d) continue;
      if (r.bucket === 'cancelled') {
        d.cancelled += n;
        d.counts.failed += n;
      } else if (r.bucket in d.counts) d.counts[r.bucket] += n;
    }
    return [...byDay.values()];
  }
}
