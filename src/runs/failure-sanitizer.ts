import { sanitizeMessage } from '../common/redact';

/**
 * A run's failure entries are shown to every member of the tenant and kept with the run, so a raw
 * provider or driver error never reaches them: a reason from a closed catalogue plus one short,
 * readable line with no stack and no secrets. Raw errors belong in the log only, and reach it, like
 * Bull's job records, through `sanitizeError`: frames kept, secrets redacted.
 */

export const REASON_CODES = [
  'not_found',
  'permission_denied',
  'credentials_invalid',
  'provider_throttled',
  'provider_unavailable',
  'validation_failed',
  'baseline_missing',
  'timeout',
  'worker_lost',
  'queue_unavailable',
  'cancelled',
  'unexpected_error',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

/** Reasons worth another attempt of a job: the provider or the network may recover by then. */
export const TRANSIENT_REASONS: ReadonlySet<ReasonCode> = new Set([
  'provider_throttled',
  'provider_unavailable',
  'timeout',
]);

/**
 * Reasons another attempt cannot change: the thing is gone, the input is wrong, the baseline is
 * missing. A retry over items that failed only for these would fail them again, so none is offered.
 */
export const PERMANENT_REASONS: ReadonlySet<ReasonCode> = new Set([
  'not_found',
  'validation_failed',
  'baseline_missing',
]);

/** What a run waiting for its next attempt waits out, in a few words ("waiting to retry (throttled)"). */
export const WAIT_LABELS: Partial<Record<ReasonCode, string>> = {
  provider_throttled: 'throttled',
  provider_unavailable: 'provider unavailable',
  timeout: 'timed out',
};

/**
 * How long the provider asked to be left alone before the next try (its Retry-After), in
 * milliseconds, if the error or one of its causes says so.
 */
export function retryAfterOf(err: unknown): number | undefined {
  try {
    let current = err;
    for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
      const ms = (current as { retryAfterMs?: unknown }).retryAfterMs;
      if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return ms;
      current = (current as ErrorShape).cause;
    }
  } catch {
    // An error that cannot be read says nothing about when to come back.
  }
  return undefined;
}

export function isReasonCode(x: unknown): x is ReasonCode {
  return typeof x === 'string' && (REASON_CODES as readonly string[]).includes(x);
}

export const REASON_LABELS: Record<ReasonCode, string> = {
  not_found: 'Not found',
  permission_denied: 'Permission denied',
  credentials_invalid: 'Credentials invalid',
  provider_throttled: 'Provider throttled the request',
  provider_unavailable: 'Provider unavailable',
  validation_failed: 'Validation failed',
  baseline_missing: 'Baseline missing',
  timeout: 'Timed out',
  worker_lost: 'Worker lost',
  queue_unavailable: 'Queue unavailable',
  cancelled: 'Cancelled',
  unexpected_error: 'Unexpected error',
};

export { MAX_FAILURE_MESSAGE, redactSecrets, sanitizeError, sanitizeMessage } from '../common/redact';
export type { SanitizedError } from '../common/redact';

export interface RunFailure {
  item_id: string | null;
  reason_code: ReasonCode;
  message: string;
  /** ISO-8601 UTC */
  at: string;
}

export const MAX_FAILURES_PER_RUN = 100;

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN']);
const STATUS_REASONS = new Map<number, ReasonCode>([
  [400, 'validation_failed'],
  [401, 'permission_denied'],
  [403, 'permission_denied'],
  [404, 'not_found'],
  [422, 'validation_failed'],
  [429, 'provider_throttled'],
  [502, 'provider_unavailable'],
  [503, 'provider_unavailable'],
  [504, 'provider_unavailable'],
]);
/** Bounds the walk down `cause`, which may be cyclic. */
const MAX_CAUSE_DEPTH = 5;

interface ErrorShape {
  reasonCode?: unknown;
  reason_code?: unknown;
  code?: unknown;
  name?: unknown;
  status?: unknown;
  statusCode?: unknown;
  cause?: unknown;
}

/**
 * A wrapper error (`new Error('Sync failed', { cause })`) says nothing about why; when the outer
 * error is not recognised, its causes are asked in turn.
 */
export function classifyError(err: unknown): ReasonCode {
  try {
    let current = err;
    for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
      const reason = reasonOf(current as ErrorShape);
      if (reason) return reason;
      current = (current as ErrorShape).cause;
    }
  } catch {
    // A throwing getter or proxy tells nothing more than an unknown shape does.
  }
  return 'unexpected_error';
}

function reasonOf(e: ErrorShape): ReasonCode | undefined {
  // `code` counts when it is already a catalogue code, as AppError's `not_found`/`queue_unavailable` are.
  const declared = [e.reasonCode, e.reason_code, e.code].find(isReasonCode);
  if (declared) return declared;
  if (typeof e.code === 'string') {
    if (TIMEOUT_CODES.has(e.code)) return 'timeout';
    if (UNREACHABLE_CODES.has(e.code)) return 'provider_unavailable';
  }
  if (e.name === 'TimeoutError') return 'timeout';
  const status = typeof e.status === 'number' ? e.status : e.statusCode;
  return typeof status === 'number' ? STATUS_REASONS.get(status) : undefined;
}

export function toFailure(input: {
  itemId?: string | number | null;
  error?: unknown;
  reasonCode?: string;
  message?: string;
  at?: Date;
}): RunFailure {
  // Recording a failure must not itself fail, so an invalid date falls back to now instead of throwing.
  const at = input.at && !Number.isNaN(input.at.getTime()) ? input.at : new Date();
  return {
    item_id: input.itemId === undefined || input.itemId === null ? null : String(input.itemId),
    reason_code: isReasonCode(input.reasonCode) ? input.reasonCode : classifyError(input.error),
    message: sanitizeMessage(input.message ?? input.error),
    at: at.toISOString(),
  };
}

/** The earliest failures are kept: they are usually the cause, the rest often its echo. */
export function appendFailures(
  existing: RunFailure[],
  omitted: number,
  incoming: RunFailure[],
): { failures: RunFailure[]; omitted: number } {
  const all = [...existing, ...incoming];
  const failures = all.slice(0, MAX_FAILURES_PER_RUN);
  return { failures, omitted: omitted + all.length - failures.length };
}

/**
 * `omitted` is taken so callers pass a run's stored pair as is, but it is not counted: entries left
 * out were never kept, so their reasons are unknown.
 */
export function digestFailures(
  failures: RunFailure[],
  _omitted: number,
): Array<{ reason_code: ReasonCode; label: string; count: number; sample: string }> {
  const groups = new Map<
    ReasonCode,
    { reason_code: ReasonCode; label: string; count: number; sample: string }
  >();
  for (const failure of failures) {
    // Entries come back from a JSON column and may predate a catalogue change.
    const code = isReasonCode(failure.reason_code) ? failure.reason_code : 'unexpected_error';
    const group = groups.get(code);
    if (group) group.count++;
    else
      groups.set(code, { reason_code: code, label: REASON_LABELS[code], count: 1, sample: failure.message });
  }
  // The sort is stable, so equal counts keep the order in which their reasons first appeared.
  return [...groups.values()].sort((a, b) => b.count - a.count);
}
