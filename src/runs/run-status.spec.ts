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
  it.each([
    [{ succeeded: 5, failed: 0, skipped: 0 }, 'completed'],
    [{ succeeded: 0, failed: 0, skipped: 0 }, 'completed'],
    [{ succeeded: 0, failed: 0, skipped: 4 }, 'completed'],
    [{ succeeded: 1, failed: 1, skipped: 1 }, 'completed_with_errors'],
    [{ succeeded: 0, failed: 2, skipped: 1 }, 'completed_with_errors'],
    [{ succeeded: 0, failed: 3, skipped: 0 }, 'failed'],
  ])('%o → %s', (counts, status) => {
    expect(finalStatus(counts)).toBe(status);
  });

  it('gives the partial bucket for a mix of outcomes', () => {
    const s = finalStatus({ succeeded: 1, failed: 1, skipped: 1 });
    expect(statusBucket(s, 1)).toBe('partial');
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
