import { BUCKETS, type StatusBucket } from '../runs';
import { bucketTotals, chartModel, renderRunsChart } from './runs-chart';

function day(day: string, counts: Partial<Record<StatusBucket, number>>, cancelled = 0) {
  return {
    day,
    counts: Object.fromEntries(BUCKETS.map((b) => [b, counts[b] ?? 0])) as Record<StatusBucket, number>,
    cancelled,
  };
}

describe('renderRunsChart', () => {
  const days = [day('2026-11-25', { succeeded: 3, failed: 1 }), day('2026-11-26', { partial: 2, queued: 1 })];

  it('draws one rect per non-zero bucket per day, coloured by bucket class', () => {
    const svg = renderRunsChart(days);
    expect(svg.match(/class="b-succeeded"/g)).toHaveLength(1);
    expect(svg.match(/class="b-failed"/g)).toHaveLength(1);
    expect(svg.match(/class="b-partial"/g)).toHaveLength(1);
    // The counters keep a run under "queued" until it ends: one segment for queued and running.
    expect(svg.match(/class="b-queued"/g)).toHaveLength(1);
    expect(svg).toContain('1 queued or running');
    expect(svg).not.toContain('b-running');
    expect(svg).toContain('<title>2026-11-25: 3 succeeded, 1 failed</title>');
    expect(svg).toContain('aria-label="Runs per day by status over the last 2 days: 7 runs"');
  });

  it('scales bars to their counts on one baseline, the tallest reaching the top grid line', () => {
    const svg = renderRunsChart([day('2026-11-25', { succeeded: 2 }), day('2026-11-26', { succeeded: 4 })]);
    const bars = [
      ...svg.matchAll(/<rect class="b-succeeded"[^>]*\by="([\d.]+)"[^>]*\bheight="([\d.]+)"/g),
    ].map((m) => ({ y: Number(m[1]), h: Number(m[2]) }));
    expect(bars).toHaveLength(2);
    const [half, full] = bars;
    expect(full.h / half.h).toBeCloseTo(2, 1);
    expect(full.y + full.h).toBeCloseTo(half.y + half.h, 1);
    const gridTops = [...svg.matchAll(/<line class="grid"[^>]*\by1="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(full.y).toBeCloseTo(Math.min(...gridTops), 1);
  });

  it('renders empty days without bars', () => {
    const svg = renderRunsChart([day('2026-11-26', {})]);
    expect(svg).toContain('no runs');
    expect(svg).not.toMatch(/class="b-/);
  });

  it('totals outcomes and what is in flight over the days', () => {
    expect(bucketTotals(days).map((t) => [t.label, t.count])).toEqual([
      ['Succeeded', 3],
      ['Partial', 2],
      ['Failed', 1],
      ['Cancelled', 0],
      ['Queued or running', 1],
    ]);
  });

  it('draws cancelled runs apart from failed ones, though both are in the failed bucket', () => {
    // Three runs in the failed bucket, one of them cancelled by an operator.
    const svg = renderRunsChart([day('2026-11-27', { failed: 3 }, 1)]);
    expect(svg.match(/class="b-failed"/g)).toHaveLength(1);
    expect(svg.match(/class="b-cancelled"/g)).toHaveLength(1);
    expect(svg).toContain('<title>2026-11-27: 2 failed, 1 cancelled</title>');
    expect(bucketTotals([day('2026-11-27', { failed: 3 }, 1)]).map((t) => [t.label, t.count])).toEqual([
      ['Succeeded', 0],
      ['Partial', 0],
      ['Failed', 2],
      ['Cancelled', 1],
      ['Queued or running', 0],
    ]);
  });

  it('refreshes itself only while a run of these days is in flight', () => {
    expect(chartModel([day('2026-11-27', { queued: 1 })], 'contoso').chartLiveUrl).toBe(
      '/admin/t/contoso/operations/chart',
    );
    expect(chartModel([day('2026-11-27', { succeeded: 1 })], 'contoso').chartLiveUrl).toBeNull();
  });
});
