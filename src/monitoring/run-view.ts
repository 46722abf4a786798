import { BUCKET_LABELS, digestFailures, isActive, OperationRun, REASON_LABELS, runHref } from '../runs';

function pct(part: number, whole: number): number {
  return whole > 0 ? Math.min(100, (part / whole) * 100) : 0;
}

/** Stacked progress segments as SVG coordinates (0–100): CSP forbids inline style widths. */
function barSegments(run: OperationRun) {
  const parts: Array<[string, number]> = [
    ['succeeded', run.succeeded],
    ['failed', run.failed],
    ['skipped', run.skipped],
  ];
  let x = 0;
  return parts
    .filter(([, n]) => n > 0)
    .map(([cls, n]) => {
      const w = pct(n, run.totalItems);
      const seg = { cls, x: x.toFixed(2), w: w.toFixed(2) };
      x += w;
      return seg;
    });
}

/** What list rows and the detail page show for a run: labels, progress, duration. */
export function runSummary(
  run: OperationRun,
  tenantSlug: string,
  label: string,
  initiatorName: string | null,
  now = Date.now(),
) {
  const active = isActive(run.status);
  const start = run.startedAt?.getTime();
  const end = run.finishedAt?.getTime() ?? (active ? now : undefined);
  const total = run.totalItems;
  return {
    id: run.id,
    href: runHref(tenantSlug, run.id),
    type: run.runType(),
    label,
    status: run.status,
    bucket: run.statusBucket,
    bucketLabel: BUCKET_LABELS[run.statusBucket],
    active,
    total,
    processed: run.processedItems,
    succeeded: run.succeeded,
    failed: run.failed,
    skipped: run.skipped,
    progressPct: total > 0 ? Math.floor(pct(run.processedItems, total)) : active ? 0 : 100,
    bar: barSegments(run),
    initiator: initiatorName ?? (run.userId ? `user #${run.userId}` : 'System'),
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    updatedAt: run.updatedAt,
    durationMs: start !== undefined && end !== undefined ? Math.max(0, end - start) : undefined,
    attempts: run.attempts,
    jobId: run.jobId,
    parentRunId: run.parentRunId,
  };
}

export function failureView(run: OperationRun) {
  const failures = run.failures ?? [];
  return {
    failures: failures.map((f) => ({ ...f, label: REASON_LABELS[f.reason_code] ?? f.reason_code })),
    omitted: run.failuresOmitted,
    digest: digestFailures(failures, run.failuresOmitted),
  };
}

/** The API's run JSON: the table's column names, plus `type`, timestamps in ISO-8601 UTC. */
export function runJson(run: OperationRun, tenantSlug: string) {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: run.id,
    type: run.runType(),
    tenant_id: run.tenantId,
    user_id: run.userId,
    resource: run.resource,
    action: run.action,
    status: run.status,
    status_bucket: run.statusBucket,
    total_items: run.totalItems,
    processed_items: run.processedItems,
    succeeded: run.succeeded,
    failed: run.failed,
    skipped: run.skipped,
    item_ids: run.itemIds ?? null,
    payload: run.payload ?? {},
    failures: run.failures ?? [],
    failures_omitted: run.failuresOmitted,
    idempotency_key: run.idempotencyKey ?? null,
    job_id: run.jobId,
    attempts: run.attempts,
    parent_run_id: run.parentRunId,
    created_at: iso(run.createdAt),
    started_at: iso(run.startedAt),
    finished_at: iso(run.finishedAt),
    updated_at: iso(run.updatedAt),
    links: { html: runHref(tenantSlug, run.id), self: `/api/v1/tenants/${tenantSlug}/runs/${run.id}` },
  };
}
