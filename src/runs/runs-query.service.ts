import { Injectable } from '@nestjs/common';
import { BUCKETS, StatusBucket } from './run-status';
import { rollupDay } from './run-rollup';
import { OperationRun } from './run';
import { RunListFilter, RunsRepository } from './runs.repository';

export interface RunPage {
  rows: OperationRun[];
  /** There are rows beyond this page in the direction of travel. */
  hasMore: boolean;
}

export interface DayCounts {
  day: string;
  counts: Record<StatusBucket, number>;
}

/**
 * Reads for Monitoring → Operations and the runs API. Lists are keyset-paged on (created_at, id)
 * (RunsRepository.list); chart figures come from the daily counters, never from scanning runs.
 */
@Injectable()
export class RunsQueryService {
  constructor(private readonly repo: RunsRepository) {}

  async list(filter: RunListFilter, full = false): Promise<RunPage> {
    const raw = await this.repo.list(filter, full);
    const hasMore = raw.length > filter.limit;
    const rows = raw.slice(0, filter.limit);
    if (filter.direction === 'newer') rows.reverse();
    return { rows, hasMore };
  }

  /** The SQL a list page runs (what the benchmark EXPLAINs). */
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
    const byDay = new Map<string, Record<StatusBucket, number>>();
    for (let i = 0; i < days; i++) {
      const d = new Date(first.getTime() + i * 86_400_000);
      byDay.set(rollupDay(d), Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Record<StatusBucket, number>);
    }
    for (const r of raw) {
      const counts = byDay.get(r.day);
      if (counts && r.bucket in counts) counts[r.bucket] = Math.max(0, r.n);
    }
    return [...byDay.entries()].map(([day, counts]) => ({ day, counts }));
  }
}
