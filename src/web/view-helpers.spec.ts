import {
  canonicalTimeZone,
  formatNumber,
  humanDuration,
  localTime,
  percent,
  relativeTime,
  utcTime,
} from './view-helpers';

describe('view helpers', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');

  it.each([
    ['2026-11-26T12:00:00Z', 'just now'],
    ['2026-11-26T11:59:30Z', '30 s ago'],
    ['2026-11-26T11:57:00Z', '3 min ago'],
    ['2026-11-26T09:00:00Z', '3 h ago'],
    ['2026-11-20T12:00:00Z', '6 d ago'],
    ['2026-11-26T12:10:00Z', 'in 10 min'],
  ])('relativeTime(%s) = %s', (iso, text) => {
    expect(relativeTime(new Date(iso), now)).toBe(text);
  });

  it('shows the exact UTC time for hovers and a dash for nothing', () => {
    expect(utcTime(new Date('2026-11-26T09:08:07.123Z'))).toBe('2026-11-26 09:08:07 UTC');
    expect(relativeTime(null)).toBe('—');
    expect(utcTime('not a date')).toBe('');
  });

  it.each([
    [850, '850 ms'],
    [1234, '1.2 s'],
    [42_000, '42 s'],
    [125_000, '2 min 5 s'],
    [3_840_000, '1 h 4 min'],
    [90_000_000, '1 d 1 h'],
    [-1, '—'],
  ])('humanDuration(%d) = %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it('formats counts and clamps percentages', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(percent(1, 3)).toBe(33);
    expect(percent(5, 0)).toBe(0);
    expect(percent(12, 10)).toBe(100);
  });
});

describe('local time beside UTC', () => {
  const at = new Date('2026-11-26T09:08:07.123Z');

  it('shows the local time of the chosen zone first and UTC beside it', () => {
    expect(utcTime(at, 'Europe/Berlin')).toBe('2026-11-26 10:08:07 Europe/Berlin · 2026-11-26 09:08:07 UTC');
    expect(utcTime(new Date('2026-07-01T00:30:00Z'), 'America/New_York')).toBe(
      '2026-06-30 20:30:00 America/New_York · 2026-07-01 00:30:00 UTC',
    );
  });

  it('shows UTC only without a zone, for UTC itself, or for a zone Intl does not know', () => {
    expect(utcTime(at, null)).toBe('2026-11-26 09:08:07 UTC');
    expect(utcTime(at, 'UTC')).toBe('2026-11-26 09:08:07 UTC');
    expect(utcTime(at, 'Mars/Olympus')).toBe('2026-11-26 09:08:07 UTC');
    expect(localTime('not a date', 'Europe/Berlin')).toBe('');
  });

  it.each([
    ['Europe/Berlin', 'Europe/Berlin'],
    ['  europe/berlin ', 'Europe/Berlin'],
    ['utc', 'UTC'],
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['Mars/Olympus', null],
    ['CET', null],
    ['+02:00', null],
    ['', null],
    ['Europe/Berlin; DROP TABLE users', null],
  ])('canonicalTimeZone(%j) = %j', (input, zone) => {
    expect(canonicalTimeZone(input)).toBe(zone);
  });
});
