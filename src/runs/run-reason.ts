import { isReasonCode, type ReasonCode, type RunFailure } from './failure-sanitizer';

/**
 * The one reason a run's row shows and the reason filter matches: its latest run-level reason (the
 * run failed as a whole, or was cancelled) if it has one, else the reason most of its kept failure
 * entries give (the first to appear wins a tie). Null when nothing failed. Kept in `top_reason`,
 * written by the statement that writes the failures.
 */
export function topReason(failures: readonly RunFailure[] | null | undefined): ReasonCode | null {
  if (!failures?.length) return null;
  const code = (f: RunFailure): ReasonCode =>
    isReasonCode(f.reason_code) ? f.reason_code : 'unexpected_error';
  for (let i = failures.length - 1; i >= 0; i--) if (failures[i].item_id === null) return code(failures[i]);
  const counts = new Map<ReasonCode, number>();
  let best: ReasonCode | null = null;
  for (const f of failures) {
    const c = code(f);
    const n = (counts.get(c) ?? 0) + 1;
    counts.set(c, n);
    if (best === null || n > counts.get(best)!) best = c;
  }
  return best;
}
