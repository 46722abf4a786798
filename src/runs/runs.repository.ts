import { Injectable } from '@nestjs/common';
import { Db, Sql } from '../database/db';
import { Dialect } from '../database/dialect';
import { placeholders, readDate, readJson, readNum } from '../database/sql';
import type { RunFailure } from './failure-sanitizer';
import type { RunStatus, StatusBucket } from './run-status';
import { OperationRun } from './run';
import { topReason } from './run-reason';
import type { CounterKey } from './run-counters';
import {
  ascending,
  Cursor,
  cursorValue,
  DEFAULT_SORT,
  nullable,
  RunSort,
  Segment,
  segmentsOf,
  SORT_COLUMN,
} from './run-list';
import { RUN_COLUMNS, SUMMARY_COLUMNS, toRun } from './run.mapper';

/** What the runs API lists: every column but the item list (a run's own endpoint has that). */
const API_COLUMNS = RUN_COLUMNS.filter((c) => c !== 'item_ids');

export type { Cursor } from './run-list';

export interface Counts {
  succeeded: number;
  failed: number;
  skipped: number;
}

export interface RunListFilter {
  tenantId: number;
  /** Several tenants at once (the All tenants view): their runs in one list. Replaces tenantId. */
  tenantIds?: number[];
  type?: { resource: string; action: string };
  bucket?: StatusBucket;
  /** Runs whose row shows this reason (top_reason). */
  reason?: string;
  /** Runs one user started, or (userId null) system runs. */
  initiator?: { userId: number | null };
  /** A search, resolved: the run with this id, and the runs of these targets (exact names). */
  search?: { id?: number; targets: string[] };
  /**
   * A search as typed, not yet resolved (RunsQueryService resolves it, for a page in the same round
   * trip as the run walk when the text is a whole target name). Never reaches the repository.
   */
  searchText?: string;
  from?: Date;
  /** Exclusive upper bound. */
  to?: Date;
  /** Newest first unless said otherwise. */
  sort?: RunSort;
  /** Keyset position: rows after this one in the sort's order (default, "older") or before it ("newer"). */
  cursor?: Cursor;
  direction?: 'older' | 'newer';
  limit: number;
}

/** One index range walk of a list (see RunsRepository.lanes). */
export interface Lane {
  tenantId: number;
  where: string[];
  params: unknown[];
  /** The index this lane walks whatever the filters (a target's), or null for a primary-key lookup. */
  index?: string | null;
}

/**
 * How a terminal write finds the row it may end, besides "still in the status it was read in":
 * - `plain`: nothing else;
 * - `startAndFinish`: a fresh run done before its start was written — the start fields and all its
 *   counts go in the same statement, provided nothing was recorded meanwhile;
 * - `addCounts`: the outcomes its context still held are added, provided the table holds the
 *   counts the context saw.
 */
export type EndGuard =
  | { kind: 'plain' }
  | { kind: 'startAndFinish'; startedAt: Date; attempts: number; jobId: string | null; counts: Counts }
  | { kind: 'addCounts'; held: Counts; processedBefore: number; failedBefore: number };

const total = (c: Counts) => c.succeeded + c.failed + c.skipped;
/** duration_ms is an INT: a run that went on for more than 24 days shows as 24 days. */
const INT_MAX = 2147483647;

/**
 * The SQL of the runs tables (operation_runs, run_failed_items, run_audit, run_daily_counts), each
 * statement written once. The lifecycle's statements are the hot path of every run: one per step,
 * guarded in their WHERE clause so concurrent writers can never break the counts.
 */
@Injectable()
export class RunsRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  // ── lifecycle ──────────────────────────────────────────────────────────────

  /** Inserts a queued run; throws the driver's unique violation when its active key is taken. */
  async insertPending(run: OperationRun): Promise<number> {
    const { insertId } = await this.db.exec(
      `INSERT INTO operation_runs (tenant_id, user_id, resource, action, status, status_bucket, total_items, processed_items,
         succeeded, failed, skipped, item_ids, payload, failures, failures_omitted, idempotency_key, active_key, subject,
         target, attempts, parent_run_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', 'queued', ?, 0, 0, 0, 0, ?, ?, '[]', 0, ?, ?, ?, ?, 0, ?, ?, ?)`,
      [
        run.tenantId,
        run.userId,
        run.resource,
        run.action,
        run.totalItems,
        run.itemIds ? JSON.stringify(run.itemIds) : null,
        JSON.stringify(run.payload ?? {}),
        run.idempotencyKey,
        run.activeKey,
        run.subject,
        run.target,
        run.parentRunId,
        this.dialect.date(run.createdAt),
        this.dialect.date(run.updatedAt),
      ],
    );
    return insertId;
  }

  /** A fresh run's start; false when the row is no longer the queued one. */
  async writeStart(id: number, startedAt: Date, attempts: number, jobId: string | null): Promise<boolean> {
    const { affected } = await this.db.exec(
      `UPDATE operation_runs SET status = 'running', status_bucket = 'running', started_at = ?, attempts = ?, job_id = ?, updated_at = ?
       WHERE id = ? AND status = 'pending' AND processed_items = 0`,
      [this.dialect.date(startedAt), attempts, jobId, this.dialect.date(new Date()), id],
    );
    return affected > 0;
  }

  /** A run (re)started by a later pickup of its job; false when it ended meanwhile. */
  async markRunning(
    id: number,
    startedAt: Date,
    attempts: number,
    jobId: string,
    at: Date,
  ): Promise<boolean> {
    // The next attempt is under way: whatever the run waited out is behind it.
    const { affected } = await this.db.exec(
      `UPDATE operation_runs SET status = 'running', status_bucket = 'running', started_at = ?, attempts = ?, job_id = ?, updated_at = ?,
         retry_at = NULL, retry_reason = NULL
       WHERE id = ? AND status IN ('pending', 'running')`,
      [this.dialect.date(startedAt), attempts, jobId, this.dialect.date(at), id],
    );
    return affected > 0;
  }

  /**
   * false when more items than that were processed already, or the run ended (a cancelled run keeps
   * the counts it was cancelled with).
   */
  async setTotal(id: number, totalItems: number): Promise<boolean> {
    const { affected } = await this.db.exec(
      `UPDATE operation_runs SET total_items = ?, updated_at = ?
       WHERE id = ? AND processed_items <= ? AND status IN ('pending', 'running')`,
      [totalItems, this.dialect.date(new Date()), id, totalItems],
    );
    return affected > 0;
  }

  /** A running run waits out a transient failure until `at`; false when it is no longer running. */
  async setRetryWait(id: number, reason: string, at: Date): Promise<boolean> {
    const { affected } = await this.db.exec(
      `UPDATE operation_runs SET retry_at = ?, retry_reason = ?, updated_at = ? WHERE id = ? AND status = 'running'`,
      [this.dialect.date(at), reason, this.dialect.date(new Date()), id],
    );
    return affected > 0;
  }

  /** Adds outcomes to a running run, keeping processed ≤ total; false when that would break or it ended. */
  async addCounts(id: number, delta: Counts, db: Sql = this.db): Promise<boolean> {
    const n = total(delta);
    const { affected } = await db.exec(
      `UPDATE operation_runs SET succeeded = succeeded + ?, failed = failed + ?, skipped = skipped + ?,
         processed_items = processed_items + ?, updated_at = ?
       WHERE id = ? AND status = 'running' AND processed_items + ? <= total_items`,
      [delta.succeeded, delta.failed, delta.skipped, n, this.dialect.date(new Date()), id, n],
    );
    return affected > 0;
  }

  /** Failed item ids, uncapped (retry reads them); ids longer than the key allows are cut. */
  async insertFailedItems(db: Sql, runId: number, itemIds: string[]): Promise<void> {
    if (!itemIds.length) return;
    const s = this.dialect.insertIgnore(
      'run_failed_items',
      ['run_id', 'item_id'],
      itemIds.map((id) => [runId, id.slice(0, 191)]),
    );
    await db.exec(s.sql, s.params);
  }

  /** The counts and failure list of a run inside a transaction, locked when the failures will change. */
  async progressOf(
    db: Sql,
    id: number,
    lock: boolean,
  ): Promise<{
    tenantId: number;
    type: string;
    processed: number;
    total: number;
    failures: RunFailure[];
    omitted: number;
  }> {
    const [row] = await db.query(
      `SELECT tenant_id, resource, action, processed_items, total_items, failures, failures_omitted FROM operation_runs WHERE id = ?${
        lock ? this.dialect.forUpdate() : ''
      }`,
      [id],
    );
    return {
      tenantId: readNum(row.tenant_id),
      type: `${row.resource}.${row.action}`,
      processed: readNum(row.processed_items),
      total: readNum(row.total_items),
      failures: readJson<RunFailure[]>(row.failures, []),
      omitted: readNum(row.failures_omitted),
    };
  }

  /** The failure list, and with it the reason the run's row shows (top_reason, for the reason filter). */
  async saveFailures(db: Sql, id: number, failures: RunFailure[], omitted: number): Promise<void> {
    await db.exec(
      'UPDATE operation_runs SET failures = ?, failures_omitted = ?, top_reason = ? WHERE id = ?',
      [JSON.stringify(failures), omitted, topReason(failures), id],
    );
  }

  /**
   * The terminal write: status, bucket and failures in one statement, only if the run is still in the
   * status it was read in and the guard holds. False when it matched no row.
   */
  async end(
    run: OperationRun,
    status: RunStatus,
    bucket: StatusBucket,
    failures: { list: RunFailure[]; omitted: number } | null,
    at: Date,
    guard: EndGuard = { kind: 'plain' },
  ): Promise<boolean> {
    const set = [
      'status = ?',
      'status_bucket = ?',
      'finished_at = ?',
      'updated_at = ?',
      'active_key = NULL',
      'retry_at = NULL',
      'retry_reason = NULL',
    ];
    const params: unknown[] = [status, bucket, this.dialect.date(at), this.dialect.date(at)];
    // How long it ran, for the list's duration column and sort (null if it never started).
    const startedAt = guard.kind === 'startAndFinish' ? guard.startedAt : run.startedAt;
    set.push('duration_ms = ?');
    params.push(startedAt ? Math.min(Math.max(0, at.getTime() - startedAt.getTime()), INT_MAX) : null);
    if (failures) {
      set.push('failures = ?', 'failures_omitted = ?', 'top_reason = ?');
      params.push(JSON.stringify(failures.list), failures.omitted, topReason(failures.list));
    }
    const where = ['id = ?', 'status = ?'];
    const whereParams: unknown[] = [run.id, run.status];
    if (guard.kind === 'startAndFinish') {
      const c = guard.counts;
      set.push(
        'started_at = ?',
        'attempts = ?',
        'job_id = ?',
        'succeeded = ?',
        'failed = ?',
        'skipped = ?',
        'processed_items = ?',
      );
      params.push(
        this.dialect.date(guard.startedAt),
        guard.attempts,
        guard.jobId,
        c.succeeded,
        c.failed,
        c.skipped,
        total(c),
      );
      where.push('processed_items = 0', 'total_items >= ?');
      whereParams.push(total(c));
    } else if (guard.kind === 'addCounts') {
      const h = guard.held;
      set.push(
        'succeeded = succeeded + ?',
        'failed = failed + ?',
        'skipped = skipped + ?',
        'processed_items = processed_items + ?',
      );
      params.push(h.succeeded, h.failed, h.skipped, total(h));
      where.push('processed_items = ?', 'failed = ?', 'processed_items + ? <= total_items');
      whereParams.push(guard.processedBefore, guard.failedBefore, total(h));
    }
    const { affected } = await this.db.exec(
      `UPDATE operation_runs SET ${set.join(', ')} WHERE ${where.join(' AND ')}`,
      [...params, ...whereParams],
    );
    return affected > 0;
  }

  // ── reads ──────────────────────────────────────────────────────────────────

  async byId(id: number, db: Sql = this.db): Promise<OperationRun | null> {
    const [row] = await db.query(`SELECT ${RUN_COLUMNS.join(', ')} FROM operation_runs WHERE id = ?`, [id]);
    return row ? toRun(row) : null;
  }

  async inTenant(tenantId: number, id: number): Promise<OperationRun | null> {
    const [row] = await this.db.query(
      `SELECT ${RUN_COLUMNS.join(', ')} FROM operation_runs WHERE id = ? AND tenant_id = ?`,
      [id, tenantId],
    );
    return row ? toRun(row) : null;
  }

  async statusOf(id: number): Promise<RunStatus | null> {
    const [row] = await this.db.query<{ status: RunStatus }>(
      'SELECT status FROM operation_runs WHERE id = ?',
      [id],
    );
    return row?.status ?? null;
  }

  /** Which of these runs were cancelled (or are gone): one statement for all of a worker's runs. */
  async endedAmong(ids: number[]): Promise<Set<number>> {
    if (!ids.length) return new Set();
    const rows = await this.db.query<{ id: number }>(
      `SELECT id FROM operation_runs WHERE id IN (${placeholders(ids.length)}) AND status IN ('pending', 'running')`,
      ids,
    );
    const active = new Set(rows.map((r) => readNum(r.id)));
    return new Set(ids.filter((id) => !active.has(id)));
  }

  async activeByKey(tenantId: number, key: string): Promise<OperationRun | null> {
    const [row] = await this.db.query(
      `SELECT ${RUN_COLUMNS.join(', ')} FROM operation_runs WHERE tenant_id = ? AND active_key = ?`,
      [tenantId, key],
    );
    return row ? toRun(row) : null;
  }

  async failedItemIds(runId: number): Promise<string[]> {
    const rows = await this.db.query<{ item_id: string }>(
      'SELECT item_id FROM run_failed_items WHERE run_id = ?',
      [runId],
    );
    return rows.map((r) => r.item_id);
  }

  /** A tenant's runs of one type, newest first, full (payload included). */
  async latestOfType(
    tenantId: number,
    type: { resource: string; action: string },
    opts: { bucket?: StatusBucket; limit: number },
  ): Promise<OperationRun[]> {
    const bucket = opts.bucket ? ' AND status_bucket = ?' : '';
    const rows = await this.db.query(
      `SELECT ${RUN_COLUMNS.join(', ')} FROM operation_runs
       WHERE tenant_id = ? AND resource = ? AND action = ?${bucket} ORDER BY created_at DESC, id DESC LIMIT ${Math.trunc(opts.limit)}`,
      [tenantId, type.resource, type.action, ...(opts.bucket ? [opts.bucket] : [])],
    );
    return rows.map(toRun);
  }

  /** The runs about one subject, newest first; only active ones when asked. */
  async forSubject(
    tenantId: number,
    subject: string,
    opts: { activeOnly?: boolean; limit: number },
  ): Promise<OperationRun[]> {
    const active = opts.activeOnly ? " AND status IN ('pending', 'running')" : '';
    const rows = await this.db.query(
      `SELECT ${SUMMARY_COLUMNS.join(', ')} FROM operation_runs
       WHERE tenant_id = ? AND subject = ?${active} ORDER BY id DESC LIMIT ${Math.trunc(opts.limit)}`,
      [tenantId, subject],
    );
    return rows.map(toRun);
  }

  // ── lists (Monitoring → Operations, the runs API, its CSV) ────────────────────

  /**
   * The lanes of a list: one per tenant, times one per searched target (and one for a searched run
   * id). Each lane is an index range walk of its own; the query service merges their pages. A merged
   * walk costs a few short ranges, where `tenant_id IN (…)` or `target IN (…)` sorted by time would
   * read and sort every matching row.
   */
  lanes(filter: RunListFilter): Lane[] {
    if (filter.searchText !== undefined && !filter.search)
      throw new Error('a typed search must be resolved (RunsQueryService) before its runs are read');
    const tenants = filter.tenantIds ?? [filter.tenantId];
    if (!filter.search) return tenants.map((tenantId) => ({ tenantId, where: [], params: [] }));
    const { id, targets } = filter.search;
    return tenants.flatMap((tenantId) => [
      ...(id !== undefined ? [{ tenantId, where: ['id = ?'], params: [id], index: null }] : []),
      ...targets.map((t) => ({
        tenantId,
        where: ['target = ?'],
        params: [t],
        index: 'ix_runs_tenant_target_created',
      })),
    ]);
  }

  /**
   * One lane's rows in one segment of the sort, after `cursor` in the walk's direction (older pages
   * forwards, newer ones backwards): keyset-paged over an index that ends in the sort column and id,
   * so page 400 costs what page 1 costs and rows arriving meanwhile never shift a page.
   */
  async listLane(
    filter: RunListFilter,
    lane: Lane,
    segment: Segment,
    cursor: Cursor | undefined,
    limit: number,
    full: boolean,
  ): Promise<OperationRun[]> {
    const { sql, params } = this.laneQuery(filter, lane, segment, cursor, limit, full);
    return (await this.db.query(sql, params)).map(toRun);
  }

  /** The SQL of a list page's first walk (what the benchmark EXPLAINs): its first lane and segment. */
  listQuery(filter: RunListFilter, full = false): { sql: string; params: unknown[] } {
    const sort = filter.sort ?? DEFAULT_SORT;
    const forward = filter.direction !== 'newer';
    const lane = this.lanes(filter)[0] ?? { tenantId: filter.tenantId, where: [], params: [] };
    const segment = filter.cursor
      ? cursorValue(filter.cursor) === null
        ? 'nulls'
        : 'values'
      : segmentsOf(sort.by, forward)[0];
    return this.laneQuery(filter, lane, segment, filter.cursor, filter.limit + 1, full);
  }

  private laneQuery(
    filter: RunListFilter,
    lane: Lane,
    segment: Segment,
    cursor: Cursor | undefined,
    limit: number,
    full: boolean,
  ): { sql: string; params: unknown[] } {
    const sort = filter.sort ?? DEFAULT_SORT;
    const { where, params } = this.conditions(filter, lane);
    const col = SORT_COLUMN[sort.by];
    const up = ascending(sort, filter.direction !== 'newer');
    const order = up ? 'ASC' : 'DESC';
    // "after" in the walk's direction
    const lt = up ? '>' : '<';
    if (segment === 'nulls') {
      where.push(`${col} IS NULL`);
      if (cursor) {
        where.push(`id ${lt} ?`);
        params.push(cursor.id);
      }
    } else {
      if (nullable(sort.by)) where.push(`${col} IS NOT NULL`);
      if (cursor) {
        // The range form (a bound on the column plus a tie-break) lets the index do the skipping.
        const v = 'createdAt' in cursor ? this.dialect.date(cursor.createdAt) : cursor.value;
        const eq = up ? '>=' : '<=';
        where.push(`${col} ${eq} ? AND (${col} ${lt} ? OR id ${lt} ?)`);
        params.push(v, v, cursor.id);
      }
    }
    const index = this.indexFor(filter, lane, sort);
    const columns = full ? API_COLUMNS : SUMMARY_COLUMNS;
    const orderBy = segment === 'nulls' ? `id ${order}` : `${col} ${order}, id ${order}`;
    const sql = `SELECT ${columns.join(', ')}
      FROM operation_runs ${index ? this.dialect.forceIndex(index) : ''}
      WHERE ${where.join(' AND ')}
      ORDER BY ${orderBy}
      LIMIT ${Math.max(1, Math.min(limit, 501))}`;
    return { sql, params };
  }

  /**
   * How many runs match, counting no further than `cap` (per lane): a bounded read of the filter's own
   * index range, for the filters the counters cannot answer. `capped` says the count stopped there.
   */
  async countUpTo(filter: RunListFilter, cap: number): Promise<{ n: number; capped: boolean }> {
    const counts = await Promise.all(
      this.lanes(filter).map(async (lane) => {
        const { where, params } = this.conditions(filter, lane);
        const index = this.indexFor(filter, lane, DEFAULT_SORT);
        const [row] = await this.db.query(
          `SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM operation_runs ${index ? this.dialect.forceIndex(index) : ''}
           WHERE ${where.join(' AND ')} LIMIT ${Math.trunc(cap) + 1}) matching`,
          params,
        );
        return readNum(row.n);
      }),
    );
    const n = counts.reduce((a, b) => a + b, 0);
    return { n: Math.min(n, cap), capped: counts.some((c) => c > cap) || n > cap };
  }

  /** The distinct targets of these tenants' runs that start with `prefix` (any case), by name. */
  async targetsStartingWith(tenantIds: number[], prefix: string, limit: number): Promise<string[]> {
    const like = this.dialect.startsWith('target', prefix);
    const rows = await Promise.all(
      tenantIds.map((tenantId) =>
        // GROUP BY on the index's second column, the first held constant: a loose index scan, which
        // reads one entry per distinct target rather than every run of it.
        this.db.query<{ target: string }>(
          `SELECT target FROM operation_runs ${this.dialect.forceIndex('ix_runs_tenant_target_created')}
           WHERE tenant_id = ? AND ${like.sql}
           GROUP BY target ORDER BY target LIMIT ${Math.trunc(limit)}`,
          [tenantId, like.param],
        ),
      ),
    );
    return [...new Set(rows.flat().map((r) => String(r.target)))].sort().slice(0, limit);
  }

  /** The WHERE of a lane: its tenant, its own condition, the filters. */
  private conditions(filter: RunListFilter, lane: Lane): { where: string[]; params: unknown[] } {
    const where: string[] = ['tenant_id = ?', ...lane.where];
    const params: unknown[] = [lane.tenantId, ...lane.params];
    if (filter.bucket) {
      where.push('status_bucket = ?');
      params.push(filter.bucket);
    }
    if (filter.type) {
      where.push('resource = ? AND action = ?');
      params.push(filter.type.resource, filter.type.action);
    }
    if (filter.reason) {
      where.push('top_reason = ?');
      params.push(filter.reason);
    }
    if (filter.initiator) {
      if (filter.initiator.userId === null) where.push('user_id IS NULL');
      else {
        where.push('user_id = ?');
        params.push(filter.initiator.userId);
      }
    }
    if (filter.from) {
      where.push('created_at >= ?');
      params.push(this.dialect.date(filter.from));
    }
    if (filter.to) {
      where.push('created_at < ?');
      params.push(this.dialect.date(filter.to));
    }
    return { where, params };
  }

  /**
   * The index a lane walks: the sort column's for duration and failed; for created time, the one of
   * the most selective filter (each ends in created_at, id). A searched target is a handful of runs:
   * its index wins whatever the sort. A searched id is the primary key.
   */
  private indexFor(filter: RunListFilter, lane: Lane, sort: RunSort): string | null {
    if (
      lane.index !== undefined &&
      (lane.index === null || sort.by === 'created' || lane.index.includes('target'))
    )
      return lane.index;
    if (sort.by === 'duration') return 'ix_runs_tenant_duration';
    if (sort.by === 'failed') return 'ix_runs_tenant_failed';
    if (filter.reason) return 'ix_runs_tenant_reason_created';
    if (filter.initiator) return 'ix_runs_tenant_user_created';
    if (filter.bucket) return 'ix_runs_tenant_bucket_created';
    if (filter.type) return 'ix_runs_tenant_type_created';
    return 'ix_runs_tenant_created';
  }

  /** Children of a run (retries), newest first. */
  async children(tenantId: number, parentId: number): Promise<OperationRun[]> {
    const rows = await this.db.query(
      `SELECT ${SUMMARY_COLUMNS.join(', ')} FROM operation_runs WHERE parent_run_id = ? AND tenant_id = ? ORDER BY id DESC LIMIT 50`,
      [parentId, tenantId],
    );
    return rows.map(toRun);
  }

  /** How long a type's recent successful runs took, for the stalled flag. */
  async recentDurationsMs(tenantId: number, resource: string, action: string): Promise<number[]> {
    const rows = await this.db.query(
      `SELECT started_at, finished_at FROM operation_runs
       WHERE tenant_id = ? AND resource = ? AND action = ? AND status_bucket = 'succeeded' ORDER BY created_at DESC LIMIT 20`,
      [tenantId, resource, action],
    );
    return rows
      .map((r) => (readDate(r.finished_at)?.getTime() ?? 0) - (readDate(r.started_at)?.getTime() ?? 0))
      .filter((d) => d > 0);
  }

  // ── maintenance ────────────────────────────────────────────────────────────

  /** Runs whose last write is older than the cut-offs: candidates for a lost job. */
  async stale(pendingBefore: Date, runningBefore: Date): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(
      `SELECT id FROM operation_runs
       WHERE (status = 'pending' AND updated_at < ?) OR (status = 'running' AND updated_at < ?) ORDER BY id LIMIT 500`,
      [this.dialect.date(pendingBefore), this.dialect.date(runningBefore)],
    );
    return rows.map((r) => readNum(r.id));
  }

  async endedBefore(cutoff: Date, limit: number): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(
      `SELECT id FROM operation_runs WHERE created_at < ? AND status NOT IN ('pending', 'running') ORDER BY created_at, id LIMIT ${Math.trunc(limit)}`,
      [this.dialect.date(cutoff)],
    );
    return rows.map((r) => readNum(r.id));
  }

  /** Deletes runs and what hangs off them (the hub's tables and producers' `also`), in one transaction. */
  async deleteRuns(ids: number[], also: Array<{ table: string; column: string }> = []): Promise<void> {
    const list = placeholders(ids.length);
    await this.db.transaction(async (tx) => {
      for (const { table, column } of [{ table: 'run_failed_items', column: 'run_id' }, ...also])
        await tx.exec(`DELETE FROM ${table} WHERE ${column} IN (${list})`, ids);
      await tx.exec(`DELETE FROM operation_runs WHERE id IN (${list})`, ids);
    });
  }

  // ── daily counters ─────────────────────────────────────────────────────────

  async addDailyCounts(
    rows: Array<{
      tenantId: number;
      day: string;
      resource: string;
      action: string;
      bucket: CounterKey;
      n: number;
    }>,
  ): Promise<void> {
    if (!rows.length) return;
    // In key order, so two writers adding to the same counters lock them in the same order.
    const key = (p: (typeof rows)[number]) => `${p.day}\u0000${p.resource}\u0000${p.action}\u0000${p.bucket}`;
    const sorted = [...rows].sort((a, b) =>
      a.tenantId !== b.tenantId ? a.tenantId - b.tenantId : key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0,
    );
    const s = this.dialect.upsert(
      'run_daily_counts',
      ['tenant_id', 'day', 'resource', 'action', 'bucket', 'n'],
      sorted.map((p) => [p.tenantId, p.day, p.resource, p.action, p.bucket, p.n]),
      ['tenant_id', 'day', 'resource', 'action', 'bucket'],
      ['n'],
      'add',
    );
    await this.db.exec(s.sql, s.params);
  }

  /**
   * Recomputes the counters of days from `sinceDay` on from the runs themselves. Active runs count
   * under "queued" and cancelled ones under "cancelled", as the lifecycle keeps them.
   */
  async recountDays(sinceDay: string): Promise<void> {
    const day = this.dialect.dayOf('created_at');
    const bucket =
      "CASE WHEN status_bucket = 'running' THEN 'queued' WHEN status = 'aborted' THEN 'cancelled' ELSE status_bucket END";
    await this.db.transaction(async (tx) => {
      await tx.exec('DELETE FROM run_daily_counts WHERE day >= ?', [sinceDay]);
      await tx.exec(
        `INSERT INTO run_daily_counts (tenant_id, day, resource, action, bucket, n)
         SELECT tenant_id, ${day}, resource, action, ${bucket}, COUNT(*) FROM operation_runs
         WHERE created_at >= ? GROUP BY tenant_id, ${day}, resource, action, ${bucket}`,
        [this.dialect.date(new Date(`${sinceDay}T00:00:00Z`))],
      );
    });
  }

  async deleteDailyCountsBefore(day: string): Promise<void> {
    await this.db.exec('DELETE FROM run_daily_counts WHERE day < ?', [day]);
  }

  /**
   * How many runs of these tenants (of a type, in a bucket, created within whole UTC days) the daily
   * counters hold: a read of at most days × types × buckets counter rows per tenant, never of runs.
   * Runs still active count under "queued" there, so the caller asks this only for ended buckets.
   */
  async countFromCounters(f: {
    tenantIds: number[];
    type?: { resource: string; action: string };
    bucket?: StatusBucket;
    fromDay?: string;
    toDay?: string;
  }): Promise<number> {
    if (!f.tenantIds.length) return 0;
    const where = [`tenant_id IN (${placeholders(f.tenantIds.length)})`];
    const params: unknown[] = [...f.tenantIds];
    if (f.fromDay) {
      where.push('day >= ?');
      params.push(f.fromDay);
    }
    if (f.toDay) {
      where.push('day < ?');
      params.push(f.toDay);
    }
    if (f.type) {
      where.push('resource = ? AND action = ?');
      params.push(f.type.resource, f.type.action);
    }
    if (f.bucket) {
      // Cancelled runs are in the failed bucket; their counter has a key of its own (for the chart).
      where.push(f.bucket === 'failed' ? "bucket IN ('failed', 'cancelled')" : 'bucket = ?');
      if (f.bucket !== 'failed') params.push(f.bucket);
    }
    const [row] = await this.db.query(
      `SELECT SUM(n) AS n FROM run_daily_counts WHERE ${where.join(' AND ')}`,
      params,
    );
    return Math.max(0, readNum(row?.n));
  }

  /** Runs per day and bucket from `firstDay` on, from the counters. */
  async dailyCounts(
    tenantId: number,
    firstDay: string,
  ): Promise<Array<{ day: string; bucket: CounterKey; n: number }>> {
    const rows = await this.db.query(
      'SELECT day, bucket, SUM(n) AS n FROM run_daily_counts WHERE tenant_id = ? AND day >= ? GROUP BY day, bucket',
      [tenantId, firstDay],
    );
    return rows.map((r) => ({ day: String(r.day), bucket: r.bucket as CounterKey, n: readNum(r.n) }));
  }
}
