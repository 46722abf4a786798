import { Injectable } from '@nestjs/common';
import { BUCKETS, StatusBucket } from './run-status';
import { RunCounters } from './run-counters';
import { RunPageCache, type RunPage } from './run-page-cache';
import { RunTargetNames } from './run-target-names';
import { cursorAfter, cursorValue, DEFAULT_SORT, segmentsOf, walkOrder } from './run-list';
import { rollupDay } from './run-rollup';
import { OperationRun } from './run';
import { RunListFilter, RunsRepository } from './runs.repository';

export type { RunPage } from './run-page-cache';

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

/** What a total depends on besides its tenant: the filters, never the page's position. */
function countKey(f: RunListFilter): string {
  return JSON.stringify([
    f.type ? `${f.type.resource}.${f.type.action}` : null,
    f.bucket ?? null,
    f.reason ?? null,
    f.initiator ? { by: f.initiator.userId } : null,
    f.from?.toISOString() ?? null,
    f.to?.toISOString() ?? null,
    f.searchText ?? null,
    f.search ?? null,
  ]);
}

/** The run id a search names: digits, with or without "#". */
function searchedId(text: string): number | undefined {
  const m = /^#?(\d{1,15})$/.exec(text);
  return m && Number(m[1]) > 0 ? Number(m[1]) : undefined;
}

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
  private readonly perDayBuilt = new WeakMap<object, { since: string; days: DayCounts[] }>();
  private readonly searches = new WeakMap<RunListFilter, Promise<NonNullable<RunListFilter['search']>>>();

  constructor(
    private readonly repo: RunsRepository,
    private readonly counters: RunCounters,
    private readonly targetNames: RunTargetNames,
    private readonly pages: RunPageCache,
  ) {}

  /**
   * A page: each lane walks its index range (segment by segment for a sort with empty values) for
   * one row more than the page, and the lanes' rows are merged in the sort's order. A tenant's first
   * pages are kept until its runs change (RunPageCache): the rows are shared, read-only.
   */
  list(filter: RunListFilter, full = false): Promise<RunPage> {
    return this.pages.get(filter, full, () => this.read(filter, full));
  }

  private async read(filter: RunListFilter, full: boolean): Promise<RunPage> {
    const found =
      filter.searchText !== undefined && !filter.search
        ? await this.searchWalk(filter, filter.searchText, full)
        : await this.walk(filter, full);
    const sort = filter.sort ?? DEFAULT_SORT;
    const forward = filter.direction !== 'newer';
    const merged = found.sort(walkOrder(sort, forward));
    const rows = merged.slice(0, filter.limit);
    if (!forward) rows.reverse();
    return { rows, hasMore: merged.length > filter.limit };
  }

  /** Every lane's rows for one page (one more than the page each), unmerged. */
  private async walk(filter: RunListFilter, full: boolean): Promise<OperationRun[]> {
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
    return lanes.flat();
  }

  /**
   * A typed search's rows in one round trip when the text is a whole target name (what an operator
   * pastes or a link carries): the target names it starts are read while the lanes of the text itself
   * (and of the run id it may be) are walked. Only targets besides the text need a second walk; a text
   * that names no target exactly costs that second walk for all of them, as resolving first would.
   */
  private async searchWalk(filter: RunListFilter, text: string, full: boolean): Promise<OperationRun[]> {
    const id = searchedId(text);
    const [{ targets }, guessed] = await Promise.all([
      this.searchOf(filter, text),
      this.walk({ ...filter, search: { id, targets: [text] } }, full),
    ]);
    const known = new Set(targets);
    // The database may compare names without case; a row of a target the search did not name
    // (beyond the first SEARCH_TARGETS) means the guess was wider than the search: walk it properly.
    const usable = known.has(text) && guessed.every((r) => r.id === id || known.has(r.target ?? ''));
    const rest = targets.filter((t) => !usable || t !== text);
    const more = rest.length ? await this.walk({ ...filter, search: { targets: rest } }, full) : [];
    const rows = usable ? [...guessed, ...more] : [...guessed.filter((r) => r.id === id), ...more];
    // A target equal to the text in the database's collation is walked twice: each run once.
    const seen = new Set<number>();
    return rows.filter((r) => !seen.has(r.id) && seen.add(r.id));
  }

  /** Every matching run, in the list's order, a batch at a time (the CSV export: any size, little memory). */
  async *batches(filter: RunListFilter, size = 500): AsyncGenerator<readonly OperationRun[]> {
    filter = await this.resolved(filter);
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
    const tenantIds = filter.tenantIds ?? [filter.tenantId];
    const active = filter.bucket === 'queued' || filter.bucket === 'running';
    const counted =
      filter.searchText === undefined &&
      !filter.search &&
      !filter.reason &&
      !filter.initiator &&
      !active &&
      (!filter.from || fromDay) &&
      (!filter.to || toDay);
    // This process's latest changes first, so a run it just started or ended is in the figure (and
    // their flush has dropped what the caches below held about it).
    if (counted || !active) await this.counters.flush();
    if (counted) {
      const f = { tenantIds, type: filter.type, bucket: filter.bucket, fromDay, toDay };
      const read = async () => ({ n: await this.repo.countFromCounters(f), exact: true });
      return tenantIds.length === 1 ? this.counters.totals.get(tenantIds[0], countKey(filter), read) : read();
    }
    // Counted on the runs (up to COUNT_CAP). Kept as the counters' figures are: whatever can move such
    // a count (a run started, ended, cancelled, retried, pruned) moves the counters too, and their
    // flush drops it in every process. Not for queued and running: a start moves no counter.
    if (tenantIds.length !== 1 || active) return this.countRuns(filter);
    return this.counters.totals.get(tenantIds[0], countKey(filter), () => this.countRuns(filter));
  }

  /** A total counted on the runs' own index ranges, up to COUNT_CAP ("more than" beyond). */
  private async countRuns(filter: RunListFilter): Promise<RunTotal> {
    const text = filter.searchText;
    if (text !== undefined && !filter.search && searchedId(text) === undefined) {
      // As the list does: count the runs of the text as a whole name while the names are looked up;
      // that count is the answer when the text names exactly one target, itself.
      const [search, guessed] = await Promise.all([
        this.searchOf(filter, text),
        this.repo.countUpTo({ ...filter, search: { targets: [text] } }, COUNT_CAP),
      ]);
      if (search.targets.length === 1 && search.targets[0] === text)
        return { n: guessed.n, exact: !guessed.capped };
      filter = { ...filter, search };
    }
    filter = await this.resolved(filter);
    const { n, capped } = await this.repo.countUpTo(filter, COUNT_CAP);
    return { n, exact: !capped };
  }

  /** What a search names: a run id (digits, with or without "#"), and targets whose name starts with it. */
  async resolveSearch(tenantIds: number[], text: string): Promise<NonNullable<RunListFilter['search']>> {
    const id = searchedId(text);
    const read = () => this.repo.targetsStartingWith(tenantIds, text, SEARCH_TARGETS);
    const targets =
      tenantIds.length === 1 ? await this.targetNames.get(tenantIds[0], text, read) : await read();
    return { ...(id !== undefined ? { id } : {}), targets };
  }

  /** The filter with its typed search resolved (for the reads that need the names first). */
  private async resolved(filter: RunListFilter): Promise<RunListFilter> {
    if (filter.searchText === undefined || filter.search) return filter;
    return { ...filter, search: await this.searchOf(filter, filter.searchText) };
  }

  /**
   * A typed search resolved once per filter object: a page's list and its total, read at the same
   * time, share one lookup of the target names.
   */
  private searchOf(filter: RunListFilter, text: string): Promise<NonNullable<RunListFilter['search']>> {
    let pending = this.searches.get(filter);
    if (!pending) {
      pending = this.resolveSearch(filter.tenantIds ?? [filter.tenantId], text);
      this.searches.set(filter, pending);
    }
    return pending;
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
    const since = rollupDay(first);
    const raw = await this.counters.daily.get(tenantId, since, () => this.repo.dailyCounts(tenantId, since));
    // The same cached counters give the same days: built once while they are kept (read-only).
    const built = this.perDayBuilt.get(raw);
    if (built?.since === since && built.days.length === days) return built.days;
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
    const result = [...byDay.values()];
    this.perDayBuilt.set(raw, { since, days: result });
    return result;
  }
}
