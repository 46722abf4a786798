/** Raw statuses a run moves through, and the five buckets operators filter and colour by. */
export const RUN_STATUSES = [
  'pending',
  'running',
  'completed',
  'completed_with_errors',
  'failed',
  'aborted',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const BUCKETS = ['queued', 'running', 'succeeded', 'partial', 'failed'] as const;
export type StatusBucket = (typeof BUCKETS)[number];

export const BUCKET_LABELS: Record<StatusBucket, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  partial: 'Partial',
  failed: 'Failed',
};

/**
 * What a run is called on every page: its bucket's label, except that a run an operator cancelled is
 * "Cancelled" (with a style of its own), not "Failed". The bucket stays `failed` for filters and the
 * API; only the words and the colour differ.
 */
export type RunState = StatusBucket | 'cancelled';

export function runState(status: RunStatus, bucket: StatusBucket): RunState {
  return status === 'aborted' ? 'cancelled' : bucket;
}

export const RUN_STATE_LABELS: Record<RunState, string> = { ...BUCKET_LABELS, cancelled: 'Cancelled' };

export function isActive(status: RunStatus): boolean {
  return status === 'pending' || status === 'running';
}

export interface RunCounts {
  succeeded: number;
  failed: number;
  skipped: number;
}

/** The bucket for a raw status and its failed count; persisted in status_bucket in the same write. */
export function statusBucket(status: RunStatus, failed: number): StatusBucket {
  switch (status) {
    case 'pending':
      return 'queued';
    case 'running':
      return 'running';
    case 'completed':
      return failed > 0 ? 'partial' : 'succeeded';
    case 'completed_with_errors':
      return 'partial';
    case 'failed':
    case 'aborted':
      return 'failed';
  }
}

/**
 * The raw status a finished run gets from its counts: nothing failed → completed; some failed and some
 * succeeded or were skipped → completed_with_errors; every processed item failed → failed.
 */
export function finalStatus(c: RunCounts): RunStatus {
  if (c.failed === 0) return 'completed';
  return c.succeeded + c.skipped > 0 ? 'completed_with_errors' : 'failed';
}

export function runType(resource: string, action: string): string {
  return `${resource}.${action}`;
}

/** A run's page in its tenant. */
export function runHref(tenantSlug: string, id: number): string {
  return `/admin/t/${tenantSlug}/operations/${id}`;
}

/** "backup_set.add_policies" → ["backup_set", "add_policies"]; the action may not contain a dot. */
export function splitRunType(type: string): { resource: string; action: string } {
  const i = type.lastIndexOf('.');
  if (i <= 0 || i === type.length - 1) throw new Error(`Run type "${type}" must look like resource.action`);
  return { resource: type.slice(0, i), action: type.slice(i + 1) };
}
