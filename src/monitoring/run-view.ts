import { digestFailures, REASON_LABELS } from '../runs/failure-sanitizer';
import { BUCKET_LABELS, isActive, runHref, runType } from '../runs/run-status';
import type { RunRow } from '../runs/runs-query.service';

function pct(part: number, whole: number): number {
  return whole > 0 ? Math.min(100, (part / whole) * 100) : 0;
}

/** Stacked progress segments as SVG coordinates (0–100): CSP forbids inline style widths. */
function barSegments(row: RunRow) {
  const parts: Array<[string, number]> = [
    ['succeeded', row.succeeded],
    ['failed', row.failed],
    ['skipped', row.skipped],
  ];
  let x = 0;
  return parts
    .filter(([, n]) => n > 0)
    .map(([cls, n]) => {
      const w = pct(n, row.total_items);
      const seg = { cls, x: x.toFixed(2), w: w.toFixed(2) };
      x += w;
      return seg;
    });
}

/** What list rows and the detail page show for a run: labels, progress, duration. */
export function runSummary(row: RunRow, tenantSlug: string, label: string, now = Date.now()) {
  const active = isActive(row.status);
  const start = row.started_at?.getTime();
  const end = row.finished_at?.getTime() ?? (active ? now : undefined);
  const total = row.total_items;
  return {
    id: row.id,
    href: runHref(tenantSlug, row.id),
    type: runType(row.resource, row.action),
    label,
    status: row.status,
    bucket: row.status_bucket,
    bucketLabel: BUCKET_LABELS[row.status_bucket],
    active,
    total,
    processed: row.processed_items,
    succeeded: row.succeeded,
    failed: row.failed,
    skipped: row.skipped,
    progressPct: total > 0 ? Math.floor(pct(row.processed_items, total)) : active ? 0 : 100,
    bar: barSegments(row),
    initiator: row.user_name ?? (row.user_id ? `user #${row.user_id}` : 'System'),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
    durationMs: start !== undefined && end !== undefined ? Math.max(0, end - start) : undefined,
    attempts: row.attempts,
    jobId: row.job_id,
    parentRunId: row.parent_run_id,
  };
}

export function failureView(row: RunRow) {
  const failures = row.failures ?? [];
  return {
    failures: failures.map((f) => ({ ...f, label: REASON_LABELS[f.reason_code] ?? f.reason_code })),
    omitted: row.failures_omitted,
    digest: digestFailures(failures, row.failures_omitted),
  };
}

/** The API's run JSON: the table's column names, plus `type`, timestamps in ISO-8601 UTC. */
export function runJson(row: RunRow, tenantSlug: string) {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: row.id,
    type: runType(row.resource, row.action),
    tenant_id: row.tenant_id,
    user_id: row.user_id,
    resource: row.resource,
    action: row.action,
    status: row.status,
    status_bucket: row.status_bucket,
    total_items: row.total_items,
    processed_items: row.processed_items,
    succeeded: row.succeeded,
    failed: row.failed,
    skipped: row.skipped,
    item_ids: row.item_ids ?? null,
    payload: row.payload ?? {},
    failures: row.failures ?? [],
    failures_omitted: row.failures_omitted,
    idempotency_key: row.idempotency_key ?? null,
    job_id: row.job_id,
    attempts: row.attempts,
    parent_run_id: row.parent_run_id,
    created_at: iso(row.created_at),
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
    updated_at: iso(row.updated_at),
    links: { html: runHref(tenantSlug, row.id), self: `/api/v1/tenants/${tenantSlug}/runs/${row.id}` },
  };
}
