import type { RunFailure } from './failure-sanitizer';
import { topReason } from './run-reason';

const f = (reason_code: string, item_id: string | null = 'x'): RunFailure =>
  ({ item_id, reason_code, message: 'm', at: '2026-01-01T00:00:00.000Z' }) as RunFailure;

describe('topReason', () => {
  it('is null when nothing failed', () => {
    expect(topReason([])).toBeNull();
    expect(topReason(null)).toBeNull();
  });

  it('is the reason most failed items give, the first one seen winning a tie', () => {
    expect(topReason([f('timeout'), f('not_found'), f('not_found')])).toBe('not_found');
    expect(topReason([f('timeout'), f('not_found')])).toBe('timeout');
    expect(topReason([f('timeout'), f('not_found'), f('not_found'), f('timeout'), f('timeout')])).toBe(
      'timeout',
    );
  });

  it('prefers the latest run-level reason (a whole-run failure or a cancel) over item reasons', () => {
    expect(topReason([f('not_found'), f('not_found'), f('cancelled', null)])).toBe('cancelled');
    expect(topReason([f('worker_lost', null), f('not_found'), f('queue_unavailable', null)])).toBe(
      'queue_unavailable',
    );
  });

  it('reads a code outside the catalogue (an older row) as unexpected_error', () => {
    expect(topReason([f('retired_code')])).toBe('unexpected_error');
  });
});
