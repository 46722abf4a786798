import { redactUrl } from './redact';

describe('redactUrl', () => {
  it('masks link tokens in the path and secrets in the query, and keeps the rest', () => {
    expect(redactUrl('/invite/AbC_-123xyz')).toBe('/invite/[REDACTED]');
    expect(redactUrl('/invite/AbC?x=1')).toBe('/invite/[REDACTED]?x=1');
    expect(redactUrl('/admin/t/contoso/operations?bucket=failed&page=2')).toBe(
      '/admin/t/contoso/operations?bucket=failed&page=2',
    );
    expect(redactUrl('/login?access_token=abc&next=%2Fadmin&password=hunter2')).toBe(
      '/login?access_token=[REDACTED]&next=%2Fadmin&password=[REDACTED]',
    );
    expect(redactUrl(undefined)).toBeUndefined();
  });
});
