import { RUN_STATE_LABELS, type DayCounts, type RunState } from '../runs';

const WIDTH = 700;
const HEIGHT = 150;
const PAD_LEFT = 30;
const PAD_BOTTOM = 18;
const PAD_TOP = 6;

/**
 * Bottom to top: outcomes first, then what is still in flight. The daily counters keep a run under
 * "queued" from its start until it ends (one counter write at each end, none when it starts running),
 * so that bar segment is queued and running runs together. Cancelled runs are in the `failed` bucket
 * but drawn apart from the runs that failed, as every page names them.
 */
type Segment = Exclude<RunState, 'running'>;
const STACK: Segment[] = ['succeeded', 'partial', 'failed', 'cancelled', 'queued'];
const LABELS: Record<Segment, string> = { ...RUN_STATE_LABELS, queued: 'Queued or running' };

/** A day's count of one segment: `failed` without the cancelled runs, which have their own. */
function countOf(d: DayCounts, s: Segment): number {
  if (s === 'cancelled') return d.cancelled ?? 0;
  if (s === 'failed') return Math.max(0, d.counts.failed - (d.cancelled ?? 0));
  return d.counts[s];
}

function niceMax(n: number): number {
  if (n <= 4) return 4;
  const mag = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * mag >= n) return step * mag;
  return 10 * mag;
}

/**
 * A stacked bar per day, drawn on the server as SVG: no script, works under a strict CSP, and the
 * numbers come straight from the daily counters. Only numbers and fixed labels go into the markup.
 */
export function renderRunsChart(days: DayCounts[]): string {
  const totals = days.map((d) => STACK.reduce((s, b) => s + countOf(d, b), 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotW = WIDTH - PAD_LEFT;
  const plotH = HEIGHT - PAD_BOTTOM - PAD_TOP;
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(2, slot * 0.7);
  const parts: string[] = [];
  for (const frac of [0, 0.5, 1]) {
    const y = PAD_TOP + plotH - frac * plotH;
    parts.push(
      `<line class="grid" x1="${PAD_LEFT}" x2="${WIDTH}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}"/>`,
    );
    parts.push(
      `<text x="${PAD_LEFT - 4}" y="${(y + 3).toFixed(1)}" text-anchor="end">${Math.round(max * frac)}</text>`,
    );
  }
  days.forEach((d, i) => {
    const x = PAD_LEFT + i * slot + (slot - barW) / 2;
    let y = PAD_TOP + plotH;
    const tip = STACK.filter((b) => countOf(d, b) > 0)
      .map((b) => `${countOf(d, b)} ${LABELS[b].toLowerCase()}`)
      .join(', ');
    parts.push(`<g><title>${d.day}: ${tip || 'no runs'}</title>`);
    for (const b of STACK) {
      const n = countOf(d, b);
      if (!n) continue;
      const h = (n / max) * plotH;
      y -= h;
      parts.push(
        `<rect class="b-${b}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}"/>`,
      );
    }
    // An invisible full-height target so the tooltip shows over empty days too.
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${PAD_TOP}" width="${barW.toFixed(1)}" height="${plotH}" fill="transparent"/></g>`,
    );
    if (i % 2 === days.length % 2 || days.length <= 7) {
      parts.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${HEIGHT - 4}" text-anchor="middle">${d.day.slice(5)}</text>`,
      );
    }
  });
  const total = totals.reduce((a, b) => a + b, 0);
  return `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Runs per day by status over the last ${days.length} days: ${total} runs">${parts.join('')}</svg>`;
}

export function bucketTotals(days: DayCounts[]): Array<{ bucket: Segment; label: string; count: number }> {
  return STACK.map((b) => ({
    bucket: b,
    label: LABELS[b],
    count: days.reduce((s, d) => s + countOf(d, b), 0),
  }));
}

/**
 * The chart section's model (what the Operations page and its live refresh render with
 * views/partials/runs_chart.hbs): the SVG, the legend, the total, and while any run of these days is
 * queued or running, the address it refreshes itself from.
 */
export function chartModel(days: DayCounts[], tenantSlug: string): ChartModel {
  // The query service hands out the same days while its counters are cached: one SVG per change.
  const known = built.get(days);
  if (known?.slug === tenantSlug) return known.model;
  const model = buildChart(days, tenantSlug);
  built.set(days, { slug: tenantSlug, model });
  return model;
}

type ChartModel = ReturnType<typeof buildChart>;
const built = new WeakMap<DayCounts[], { slug: string; model: ChartModel }>();

function buildChart(days: DayCounts[], tenantSlug: string) {
  const totals = bucketTotals(days);
  const inFlight = totals.find((t) => t.bucket === 'queued')?.count ?? 0;
  return {
    chart: renderRunsChart(days),
    chartTotal: totals.reduce((s, t) => s + t.count, 0),
    totals,
    chartLiveUrl: inFlight > 0 ? `/admin/t/${tenantSlug}/operations/chart` : null,
  };
}
