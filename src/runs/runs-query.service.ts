import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { fromDbDate, parseJson, toDbDate } from '../database/sql';
import type { RunFailure } from './failure-sanitizer';
import { rollupDay } from './run-rollup';
import { num, numOrNull } from './run-row';
import { BUCKETS, RunStatus, StatusBucket } from './run-status';

export interface Cursor {
  createdAt: Date;
  id: number;
}

export interface RunListFilter {
  tenantId: number;
  type?: { resource: string; action: string };
  bucket?: StatusBucket;
  from?: Date;
  /** Exclusive upper bound. */
  to?: Date;
  /** Keyset position: rows older than this (default) or newer than it. */
  cursor?: Cursor;
  direction?: 'older' | 'newer';
  limit: number;
}

/** A run row as the list and the API read it (snake_case, the table's own names). */
export interface RunRow {
  id: number;
  tenant_id: number;
  user_id: number | null;
  user_name: string | null;
  resource: string;
  action: string;
  status: RunStatus;
  status_bucket: StatusBucket;
  total_items: number;
  processed_items: number;
  succeeded: number;
  failed: number;
  skipped: number;
  item_ids?: string[] | null;
  payload?: Record<string, unknown>;
  failures?: RunFailure[];
  failures_omitted: number;
  idempotency_key?: string | null;
  job_id: string | null;
  attempts: number;
  parent_run_id: number | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

export interface RunPage {
  rows: RunRow[];
  /** There are rows beyond this page in the direction of travel. */
  hasMore: boolean;
}

export interface DayCounts {
  day: string;
  counts: Record<StatusBucket, number>;
}

const SUMMARY_COLUMNS = [
  'r.id',
  'r.tenant_id',
  'r.user_id',
  'u.name AS user_name',
  'r.resource',
  'r.action',
  'r.status',
  'r.status_bucket',
  'r.total_items',
  'r.processed_items',
  'r.succeeded',
  'r.failed',
  'r.skipped',
  'r.failures_omitted',
  'r.job_id',
  'r.attempts',
  'r.parent_run_id',
  'r.created_at',
  'r.started_at',
  'r.finished_at',
  'r.updated_at',
];
const FULL_COLUMNS = [...SUMMARY_COLUMNS, 'r.item_ids', 'r.payload', 'r.failures', 'r.idempotency_key'];

/**
 * Reads for Monitoring → Operations and the runs API. Lists are keyset-paged on (created_at, id) over
 * indexes that end in those columns, so page 400 costs what page 1 costs and rows arriving meanwhile
 * never shift a page. Chart figures come from the daily counters, never from scanning runs.
 */
@Injectable()
export class RunsQueryService {
  constructor(private readonly ds: DataSource) {}

  private get mysql(): boolean {
    return this.ds.options.type === 'mysql';
  }

  async list(filter: RunListFilter, full = false): Promise<RunPage> {
    const { sql, params } = this.listQuery(filter, full);
    const raw: Record<string, unknown>[] = await this.ds.query(sql, params);
    const hasMore = raw.length > filter.limit;
    const rows = raw.slice(0, filter.limit).map((r) => this.toRow(r));
    if (filter.direction === 'newer') rows.reverse();
    return { rows, hasMore };
  }

  /** The SQL a list page runs (also what the benchmark EXPLAINs). */
  listQuery(filter: RunListFilter, full = false): { sql: string; params: unknown[] } {
    const where: string[] = ['r.tenant_id = ?'];
    const params: unknown[] = [filter.tenantId];
    if (filter.bucket) {
      where.push('r.status_bucket = ?');
      params.push(filter.bucket);
    }
    if (filter.type) {
      where.push('r.resource = ? AND r.action = ?');
      params.push(filter.type.resource, filter.type.action);
    }
    if (filter.from) {
      where.push('r.created_at >= ?');
      params.push(toDbDate(filter.from, this.mysql));
    }
    if (filter.to) {
      where.push('r.created_at < ?');
      params.push(toDbDate(filter.to, this.mysql));
    }
    const newer = filter.direction === 'newer';
    if (filter.cursor) {
      // The range form (a bound on created_at plus a tie-break) lets the index do the skipping.
      const c = toDbDate(filter.cursor.createdAt, this.mysql);
      where.push(
        newer
          ? 'r.created_at >= ? AND (r.created_at > ? OR r.id > ?)'
          : 'r.created_at <= ? AND (r.created_at < ? OR r.id < ?)',
      );
      params.push(c, c, filter.cursor.id);
    }
    const order = newer ? 'ASC' : 'DESC';
    const sql = `SELECT ${(full ? FULL_COLUMNS : SUMMARY_COLUMNS).join(', ')}
      FROM operation_runs r ${this.indexHint(filter)}
      LEFT JOIN users u ON u.id = r.user_id
      WHERE ${where.join(' AND ')}
      ORDER BY r.created_at ${order}, r.id ${order}
      LIMIT ${Math.max(1, Math.min(filter.limit, 500)) + 1}`;
    return { sql, params };
  }

  /**
   * MariaDB, left alone, walks the tenant's rows by tenant_id and sorts; naming the index whose
   * column order matches the filter and the ORDER BY keeps every page an index range scan.
   */
  private indexHint(filter: RunListFilter): string {
    if (!this.mysql) return '';
    if (filter.bucket) return 'FORCE INDEX (ix_runs_tenant_bucket_created)';
    if (filter.type) return 'FORCE INDEX (ix_runs_tenant_type_created)';
    return 'FORCE INDEX (ix_runs_tenant_created)';
  }

  async getRow(tenantId: number, id: number): Promise<RunRow | null> {
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT ${FULL_COLUMNS.join(', ')} FROM operation_runs r LEFT JOIN users u ON u.id = r.user_id
       WHERE r.id = ? AND r.tenant_id = ?`,
      [id, tenantId],
    );
    return raw[0] ? this.toRow(raw[0]) : null;
  }

  /** Children of a run (retries), newest first. */
  async children(tenantId: number, parentId: number): Promise<RunRow[]> {
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT ${SUMMARY_COLUMNS.join(', ')} FROM operation_runs r LEFT JOIN users u ON u.id = r.user_id
       WHERE r.parent_run_id = ? AND r.tenant_id = ? ORDER BY r.id DESC LIMIT 50`,
      [parentId, tenantId],
    );
    return raw.map((r) => this.toRow(r));
  }

  /** Runs per day and bucket for the last `days` UTC days (today included), from the counters. */
  async perDay(tenantId: number, days: number, now = new Date()): Promise<DayCounts[]> {
    const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
    const raw: Array<{ day: string; bucket: StatusBucket; n: number | string }> = await this.ds.query(
      `SELECT day, bucket, SUM(n) AS n FROM run_daily_counts
       WHERE tenant_id = ? AND day >= ? GROUP BY day, bucket`,
      [tenantId, rollupDay(first)],
    );
    const byDay = new Map<string, Record<StatusBucket, number>>();
    for (let i = 0; i < days; i++) {
      const d = new Date(first.getTime() + i * 86_400_000);
      byDay.set(rollupDay(d), Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Record<StatusBucket, number>);
    }
    for (const r of raw) {
      const counts = byDay.get(r.day);
      if (counts && r.bucket in counts) counts[r.bucket] = Math.max(0, Number(r.n));
    }
    return [...byDay.entries()].map(([day, counts]) => ({ day, counts }));
  }

  private toRow(r: Record<string, unknown>): RunRow {
    const row: RunRow = {
      id: num(r.id),
      tenant_id: num(r.tenant_id),
      user_id: numOrNull(r.user_id),
      user_name: (r.user_name as string | null) ?? null,
      resource: String(r.resource),
      action: String(r.action),
      status: r.status as RunStatus,
      status_bucket: r.status_bucket as StatusBucket,
      total_items: num(r.total_items),
      processed_items: num(r.processed_items),
      succeeded: num(r.succeeded),
      failed: num(r.failed),
      skipped: num(r.skipped),
      failures_omitted: num(r.failures_omitted),
      job_id: (r.job_id as string | null) ?? null,
      attempts: num(r.attempts),
      parent_run_id: numOrNull(r.parent_run_id),
      created_at: fromDbDate(r.created_at)!,
      started_at: fromDbDate(r.started_at),
      finished_at: fromDbDate(r.finished_at),
      updated_at: fromDbDate(r.updated_at)!,
    };
    if ('payload' in r) {
      row.item_ids = parseJson<string[] | null>(r.item_ids, null);
      row.payload = parseJson<Record<string, unknown>>(r.payload, {});
      row.failures = parseJson<RunFailure[]>(r.failures, []);
      row.idempotency_key = (r.idempotency_key as string | null) ?? null;
    }
    return row;
  }
}
