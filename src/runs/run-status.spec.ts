import fc from 'fast-check';
import { finalStatus, RunStatus, splitRunType, statusBucket, StatusBucket } from './run-status';

describe('statusBucket', () => {
  it.each<[RunStatus, number, StatusBucket]>([
    ['pending', 0, 'queued'],
    ['running', 0, 'running'],
    ['running', 3, 'running'],
    ['completed', 0, 'succeeded'],
    ['completed', 2, 'partial'],
    ['completed_with_errors', 1, 'partial'],
    ['completed_with_errors', 0, 'partial'],
    ['failed', 0, 'failed'],
    ['failed', 5, 'failed'],
    ['aborted', 0, 'failed'],
  ])('%s with failed=%d → %s', (status, failed, bucket) => {
    expect(statusBucket(status, failed)).toBe(bucket);
  });
});

describe('finalStatus', () => {
  const counts = fc.record({ succeeded: fc.nat(50), failed: fc.nat(50), skipped: fc.nat(50) });

  it('finishes a run by its counts, and its bucket says the same (DESIGN: Finishing)', () => {
    fc.assert(
      fc.property(counts, (c) => {
        const status = finalStatus(c);
        const bucket = statusBucket(status, c.failed);
        if (c.failed === 0) expect([status, bucket]).toEqual(['completed', 'succeeded']);
        else if (c.succeeded + c.skipped > 0)
          expect([status, bucket]).toEqual(['completed_with_errors', 'partial']);
        else expect([status, bucket]).toEqual(['failed', 'failed']);
      }),
    );
  });
});

describe('splitRunType', () => {
  it('splits at the last dot', () => {
    expect(splitRunType('backup_set.add_policies')).toEqual({
      resource: 'backup_set',
      action: 'add_policies',
    });
    expect(splitRunType('drift.generate')).toEqual({ resource: 'drift', action: 'generate' });
  });

  it.each(['nodot', '.x', 'x.'])('refuses %s', (t) => {
    expect(() => splitRunType(t)).toThrow(/resource\.action/);
  });
});
