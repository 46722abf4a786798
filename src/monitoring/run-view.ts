import {
  BUCKET_LABELS,
  digestFailures,
  isActive,
  type ItemName,
  OperationRun,
  REASON_LABELS,
  RUN_STATE_LABELS,
  runHref,
  runState,
  WAIT_LABELS,
} from '../runs';
import { isoTime } from '../web';

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
  const state = runState(run.status, run.statusBucket);
  return {
    id: run.id,
    href: runHref(tenantSlug, run.id),
    type: run.runType(),
    label,
    status: run.status,
    bucket: run.statusBucket,
    bucketLabel: BUCKET_LABELS[run.statusBucket],
    /** What every page calls the run: its bucket, or "cancelled" (bucket failed) with a style of its own. */
    state,
    stateLabel: RUN_STATE_LABELS[state],
    active,
    total,
    processed: run.processedItems,
    succeeded: run.succeeded,
    failed: run.failed,
    skipped: run.skipped,
    /** Ended without any item to process (a whole-run failure before its items were known, say). */
    noItems: !active && total === 0 && run.processedItems === 0,
    progressPct: total > 0 ? Math.floor(pct(run.processedItems, total)) : 0,
    bar: barSegments(run),
    ...pace(run, active, now),
    waiting: active ? waitingOf(run, now) : null,
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

/** While a run works through known items: items per second and about how long the rest takes. */
function pace(run: OperationRun, active: boolean, now: number) {
  const started = run.startedAt?.getTime();
  const elapsedS = started === undefined ? 0 : (now - started) / 1000;
  if (!active || run.status !== 'running' || run.processedItems <= 0 || elapsedS < 1 || run.totalItems <= 0)
    return { itemsPerSecond: null, etaMs: null };
  const rate = run.processedItems / elapsedS;
  return {
    itemsPerSecond: rate >= 10 ? String(Math.round(rate)) : rate.toFixed(1),
    etaMs: Math.max(0, ((run.totalItems - run.processedItems) / rate) * 1000),
  };
}

/** An active run waiting out a transient failure before its next attempt (see RunExecutor). */
function waitingOf(run: OperationRun, now: number) {
  if (!run.retryAt || !run.retryReason) return null;
  const inMs = run.retryAt.getTime() - now;
  return {
    reason: WAIT_LABELS[run.retryReason] ?? REASON_LABELS[run.retryReason]?.toLowerCase() ?? run.retryReason,
    at: run.retryAt,
    /** Whole seconds, rounded up: "in 24 s"; null once the attempt is due. */
    inSeconds: inMs > 0 ? Math.ceil(inMs / 1000) : null,
  };
}

/**
 * The failure section of a run page. An operator's cancel is kept as a run-level entry (the table's
 * contract), but it is no failure: it is told apart as who cancelled and when, and the failures
 * listed and counted are the rest. Item ids a producer can name (a policy) are shown by name.
 */
export function failureView(run: OperationRun, names: ItemName[] = []) {
  const all = run.failures ?? [];
  const cancel =
    run.status === 'aborted'
      ? all.find((f) => f.item_id === null && f.reason_code === 'cancelled')
      : undefined;
  const failures = all.filter((f) => f !== cancel);
  const byId = new Map(names.map((n) => [n.itemId, n]));
  const whole = failures.find((f) => f.item_id === null);
  return {
    failures: failures.map((f) => ({
      ...f,
      label: REASON_LABELS[f.reason_code] ?? f.reason_code,
      item: f.item_id === null ? null : (byId.get(f.item_id) ?? null),
    })),
    omitted: run.failuresOmitted,
    digest: digestFailures(failures, run.failuresOmitted),
    cancellation: cancel ? { message: cancel.message, at: cancel.at } : null,
    /** The run-level failure, when the run failed as a whole. */
    wholeRun: whole ? { ...whole, label: REASON_LABELS[whole.reason_code] ?? whole.reason_code } : null,
  };
}

/** The item ids of a run's failures, for the producer to name (see RunHandler.itemNames). */
export function failedItemIds(run: OperationRun): string[] {
  return [...new Set((run.failures ?? []).map((f) => f.item_id).filter((id): id is string => id !== null))];
}

function iso(d: Date | null): string | null {
  return d ? isoTime(d) : null;
}

/**
 * The API's run JSON: the table's column names, plus `type`, timestamps in ISO-8601 UTC. A list leaves
 * out `item_ids` (hundreds of ids a row); the run's own answer has them.
 */
export function runJson(run: OperationRun, tenantSlug: string, withItems = true) {
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
    // A list leaves it out of its JSON (undefined is not written), the run's own answer has it.
    item_ids: withItems ? (run.itemIds ?? null) : undefined,
    payload: run.payload ?? {},
    failures: run.failures ?? [],
    failures_omitted: run.failuresOmitted,
    // What the list shows in its columns, so an API client need not work it out again.
    subject: run.subject,
    target: run.target,
    top_reason: run.topReason,
    duration_ms: run.durationMs,
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

/** The state a run page shows, as its live fragment tells a change from a refresh. */
export function liveKey(run: { state: string; waiting: unknown }): string {
  return run.waiting ? `${run.state}-waiting` : run.state;
}

/** One sentence for screen readers when a run's state changes while its page is open. */
export function announcement(run: ReturnType<typeof runSummary>): string {
  const of = `${run.processed.toLocaleString('en-US')} of ${run.total.toLocaleString('en-US')} items processed`;
  if (run.waiting) return `Run #${run.id} is waiting to retry (${run.waiting.reason}).`;
  switch (run.state) {
    case 'queued':
      return `Run #${run.id} is queued.`;
    case 'running':
      return `Run #${run.id} is running.`;
    case 'succeeded':
      return `Run #${run.id} succeeded: ${of}.`;
    case 'partial':
      return `Run #${run.id} completed with errors: ${run.failed.toLocaleString('en-US')} failed, ${of}.`;
    case 'cancelled':
      return `Run #${run.id} was cancelled.`;
    case 'failed':
      return `Run #${run.id} failed${run.noItems ? ' before any item was processed' : `: ${of}`}.`;
  }
}
