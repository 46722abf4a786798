import { fromDbDate, parseJson } from '../database/sql';
import type { RunFailure } from './failure-sanitizer';
import type { RunStatus, StatusBucket } from './run-status';
import { OperationRun } from './run.entity';

/** Every column of operation_runs, for raw reads on the lifecycle's hot path. */
export const RUN_COLUMNS =
  'id, tenant_id, user_id, resource, action, status, status_bucket, total_items, processed_items, succeeded, failed, skipped, item_ids, payload, failures, failures_omitted, idempotency_key, active_key, job_id, attempts, parent_run_id, created_at, started_at, finished_at, updated_at';

/** A numeric column (drivers return BIGINT and COUNT as strings); null as 0. */
export const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
export const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** A raw operation_runs row as the entity, without going through TypeORM's hydration. */
export function rowToRun(r: Record<string, unknown>): OperationRun {
  return Object.assign(new OperationRun(), {
    id: num(r.id),
    tenantId: num(r.tenant_id),
    userId: numOrNull(r.user_id),
    resource: String(r.resource),
    action: String(r.action),
    status: r.status as RunStatus,
    statusBucket: r.status_bucket as StatusBucket,
    totalItems: num(r.total_items),
    processedItems: num(r.processed_items),
    succeeded: num(r.succeeded),
    failed: num(r.failed),
    skipped: num(r.skipped),
    itemIds: parseJson<string[] | null>(r.item_ids, null),
    payload: parseJson<Record<string, unknown> | null>(r.payload, null),
    failures: parseJson<RunFailure[]>(r.failures, []),
    failuresOmitted: num(r.failures_omitted),
    idempotencyKey: (r.idempotency_key as string | null) ?? null,
    activeKey: (r.active_key as string | null) ?? null,
    jobId: (r.job_id as string | null) ?? null,
    attempts: num(r.attempts),
    parentRunId: numOrNull(r.parent_run_id),
    createdAt: fromDbDate(r.created_at)!,
    startedAt: fromDbDate(r.started_at),
    finishedAt: fromDbDate(r.finished_at),
    updatedAt: fromDbDate(r.updated_at)!,
  });
}
