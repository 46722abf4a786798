import { AppError, FormError } from '../common/app-error';
import { decodeCursor, encodeCursor, filterQuery, parseInstant, parseRunFilters } from './run-filters';

const types = new Set(['drift.generate', 'backup_set.add_policies']);
const now = new Date('2026-11-26T12:00:00Z');
const parse = (q: Record<string, unknown>) =>
  parseRunFilters(q, types, { defaultLimit: 25, maxLimit: 100, now });

function badRequest(q: Record<string, unknown>): string {
  try {
    parse(q);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('bad_request');
    return (e as Error).message;
  }
  throw new Error(`expected a 400 for ${JSON.stringify(q)}`);
}

describe('parseRunFilters', () => {
  it('accepts no filters', () => {
    expect(parse({})).toEqual({ direction: 'older', limit: 25 });
  });

  it('reads type, bucket, dates and limit', () => {
    const f = parse({
      type: 'drift.generate',
      status: 'failed',
      from: '2026-11-01',
      to: '2026-11-20',
      limit: '50',
    });
    expect(f.type).toBe('drift.generate');
    expect(f.bucket).toBe('failed');
    expect(f.from?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    // A date-only "to" includes that whole day.
    expect(f.to?.toISOString()).toBe('2026-11-21T00:00:00.000Z');
    expect(f.limit).toBe(50);
  });

  it('treats empty values as no filter', () => {
    expect(parse({ type: '', status: ' ', from: '' })).toEqual({ direction: 'older', limit: 25 });
  });

  it('turns presets into a from bound relative to now', () => {
    expect(parse({ preset: '24h' }).from?.toISOString()).toBe('2026-11-25T12:00:00.000Z');
    expect(parse({ preset: '7d' }).from?.toISOString()).toBe('2026-11-19T12:00:00.000Z');
    // From the start of the minute, so views within one minute share their total.
    const later = parseRunFilters({ preset: '7d' }, types, {
      defaultLimit: 25,
      maxLimit: 100,
      now: new Date('2026-11-26T12:03:41.250Z'),
    });
    expect(later.from?.toISOString()).toBe('2026-11-19T12:03:00.000Z');
  });

  it.each([
    [
      { type: 'nope.nope' },
      /Unknown run type "nope.nope". Known types: backup_set.add_policies, drift.generate/,
    ],
    [{ status: 'done' }, /Unknown status "done". Use one of: queued, running, succeeded, partial, failed/],
    [{ from: '26/11/2026' }, /"from" must be a date like 2026-11-26/],
    [{ to: '2026-02-30' }, /not a calendar date/],
    [{ from: '2026-11-26T25:00' }, /not a valid time/],
    [{ from: '2026-11-20', to: '2026-11-10' }, /"from" must be before "to"/],
    [{ preset: '1y' }, /Unknown time preset/],
    [{ preset: '7d', from: '2026-11-01' }, /either a time preset or a from\/to range/],
    [{ cursor: 'garbage!!' }, /page cursor is not valid/],
    [{ cursor: Buffer.from('abc').toString('base64url') }, /page cursor is not valid/],
    [{ limit: '0' }, /"limit" must be a whole number from 1 to 100/],
    [{ limit: '101' }, /from 1 to 100/],
    [{ type: ['a', 'b'] }, /"type" must be given once/],
    [{ status: { $gt: '' } }, /"status" must be given once/],
  ])('refuses %o with a readable message', (q, message) => {
    expect(badRequest(q)).toMatch(message);
  });

  it('accepts date-times with and without offsets', () => {
    expect(parseInstant('2026-11-26T14:30', 'from', false).toISOString()).toBe('2026-11-26T14:30:00.000Z');
    expect(parseInstant('2026-11-26T14:30:05.5+02:00', 'from', false).toISOString()).toBe(
      '2026-11-26T12:30:05.500Z',
    );
    expect(parseInstant('2026-11-26T14:30:05Z', 'from', false).toISOString()).toBe(
      '2026-11-26T14:30:05.000Z',
    );
  });

  it('round-trips cursors and reads "newer" as the other direction', () => {
    const c = { createdAt: new Date('2026-11-20T10:00:00.123Z'), id: 42 };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    const f = parse({ newer: encodeCursor(c) });
    expect(f.direction).toBe('newer');
    expect(f.cursor).toEqual(c);
  });

  it('rebuilds a query string that keeps the filters', () => {
    const f = parse({ type: 'drift.generate', status: 'partial', preset: '7d' });
    expect(filterQuery(f, { cursor: 'abc' })).toBe(
      '?type=drift.generate&status=partial&preset=7d&cursor=abc',
    );
    expect(filterQuery(parse({}))).toBe('');
  });

  it.each([
    [{ status: 'done' }, 'status'],
    [{ from: 'yesterday' }, 'from'],
    [{ to: '2026-02-30' }, 'to'],
    [{ from: '2026-11-20', to: '2026-11-01' }, 'from'],
    [{ preset: '1y' }, 'preset'],
    [{ reason: 'nope' }, 'reason'],
    [{ initiator: 'bob' }, 'initiator'],
    [{ q: 'x'.repeat(101) }, 'q'],
    [{ sort: 'name' }, 'sort'],
    [{ order: 'up' }, 'order'],
    [{ cursor: '%%%' }, 'cursor'],
    [{ pos: '-1' }, 'pos'],
    [{ limit: '101' }, 'limit'],
    [{ type: ['a', 'b'] }, 'type'],
  ])('names the field of a bad filter %j (%s), so the page can show it beside the form', (q, field) => {
    let err: unknown;
    try {
      parse(q);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormError);
    expect(Object.keys((err as FormError).fields)).toEqual([field]);
    expect((err as FormError).message).toBe((err as FormError).fields[field]);
  });

  it('reads the table tools: reason, initiator, search, sort and position', () => {
    const f = parse({
      reason: 'not_found',
      initiator: 'me',
      q: ' Set A ',
      sort: 'duration',
      order: 'asc',
      pos: '50',
    });
    expect(f).toMatchObject({
      reason: 'not_found',
      initiator: 'me',
      search: 'Set A',
      sort: { by: 'duration', dir: 'asc' },
      pos: 50,
    });
    expect(parse({ initiator: '7' }).initiator).toBe(7);
    expect(parse({ sort: 'created', order: 'desc' }).sort).toBeUndefined();
  });
});
