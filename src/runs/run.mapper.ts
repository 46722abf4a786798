import { readDate, readJson, readNum, readNumOrNull } from '../database/sql';
import type { ReasonCode, RunFailure } from './failure-sanitizer';
import type { RunStatus, StatusBucket } from './run-status';
import { OperationRun } from './run';

/** What a list row needs: everything but the item list, payload, failures and keys. */
export const SUMMARY_COLUMNS = [
  'id',
  'tenant_id',
  'user_id',
  'resource',
  'action',
  'status',
  'status_bucket',
  'total_items',
  'processed_items',
  'succeeded',
  'failed',
  'skipped',
  'failures_omitted',
  'subject',
  'target',
  'top_reason',
  'duration_ms',
  'job_id',
  'attempts',
  'parent_run_id',
  'created_at',
  'started_at',
  'finished_at',
  'updated_at',
  'retry_at',
  'retry_reason',
];

/** Every column of operation_runs. */
export const RUN_COLUMNS = [
  ...SUMMARY_COLUMNS,
  'item_ids',
  'payload',
  'failures',
  'idempotency_key',
  'active_key',
];

/**
 * The one mapper of an operation_runs row, full or summary (columns not selected stay null/empty),
 * without going through an ORM's hydration on the lifecycle's hot path.
 */
export function toRun(r: Record<string, unknown>): OperationRun {
  return Object.assign(new OperationRun(), {
    id: readNum(r.id),
    tenantId: readNum(r.tenant_id),
    userId: readNumOrNull(r.user_id),
    resource: String(r.resource),
    action: String(r.action),
    status: r.status as RunStatus,
    statusBucket: r.status_bucket as StatusBucket,
    totalItems: readNum(r.total_items),
    processedItems: readNum(r.processed_items),
    succeeded: readNum(r.succeeded),
    failed: readNum(r.failed),
    skipped: readNum(r.skipped),
    itemIds: readJson<string[] | null>(r.item_ids, null),
    payload: readJson<Record<string, unknown> | null>(r.payload, null),
    failures: readJson<RunFailure[] | null>(r.failures, null),
    failuresOmitted: readNum(r.failures_omitted),
    idempotencyKey: (r.idempotency_key as string | null | undefined) ?? null,
    activeKey: (r.active_key as string | null | undefined) ?? null,
    subject: (r.subject as string | null | undefined) ?? null,
    target: (r.target as string | null | undefined) ?? null,
    topReason: (r.top_reason as ReasonCode | null | undefined) ?? null,
    durationMs: readNumOrNull(r.duration_ms),
    jobId: (r.job_id as string | null) ?? null,
    attempts: readNum(r.attempts),
    parentRunId: readNumOrNull(r.parent_run_id),
    createdAt: readDate(r.created_at)!,
    startedAt: readDate(r.started_at),
    finishedAt: readDate(r.finished_at),
    updatedAt: readDate(r.updated_at)!,
    retryAt: readDate(r.retry_at),
    retryReason: (r.retry_reason as ReasonCode | null | undefined) ?? null,
  });
}
