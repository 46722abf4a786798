import { AppError } from '../common/app-error';
import {
  BUCKET_LABELS,
  BUCKETS,
  cursorAfter,
  OperationRun,
  REASON_CODES,
  REASON_LABELS,
  RUN_SORT_KEYS,
  type ReasonCode,
  type RunListFilter,
  type RunPage,
  type RunSortKey,
  type RunTotal,
} from '../runs';
import {
  encodeCursor,
  filterQuery,
  PAGE_SIZE,
  PAGE_SIZES,
  toListFilter,
  type RunFilters,
} from './run-filters';
import { escapeHtml as e, formatNumber, humanDuration, isoTime, relativeTime, utcTime } from '../web';
import type { runSummary } from './run-view';

const SORT_LABELS: Record<RunSortKey, string> = {
  created: 'Created',
  duration: 'Duration',
  failed: 'Failed',
};

/** What the filter form shows: the filters in effect, or (after a bad filter) what was typed. */
export interface FilterFormValues {
  type: string;
  status: string;
  from: string;
  to: string;
  reason: string;
  initiator: string;
  q: string;
  limit: string;
}

function toInputValue(d: Date | undefined): string {
  return d ? d.toISOString().slice(0, 16) : '';
}

export function formValuesOf(f: RunFilters): FilterFormValues {
  return {
    type: f.type ?? '',
    status: f.bucket ?? '',
    from: f.preset ? '' : toInputValue(f.from),
    to: toInputValue(f.to),
    reason: f.reason ?? '',
    initiator: f.initiator === undefined ? '' : String(f.initiator),
    q: f.search ?? '',
    limit: String(f.limit),
  };
}

/** The raw query as typed, for the form shown again beside its error (never trusted beyond display). */
export function typedValuesOf(q: Record<string, unknown>): FilterFormValues {
  const s = (k: string) => (typeof q[k] === 'string' ? (q[k] as string).slice(0, 200) : '');
  return {
    type: s('type'),
    status: s('status'),
    from: s('from'),
    to: s('to'),
    reason: s('reason'),
    initiator: s('initiator'),
    q: s('q'),
    limit: s('limit') || String(PAGE_SIZE),
  };
}

/** The select boxes and inputs of the filter form, with the given values chosen. */
export function filterFormModel(
  v: FilterFormValues,
  types: Array<{ type: string; label: string }>,
  signedIn: boolean,
) {
  const initiators = [
    { value: '', label: 'Anyone' },
    ...(signedIn ? [{ value: 'me', label: 'My runs' }] : []),
    { value: 'system', label: 'System (nobody started them)' },
  ];
  if (v.initiator && !initiators.some((o) => o.value === v.initiator))
    initiators.push({
      value: v.initiator,
      label: /^\d+$/.test(v.initiator) ? `User #${v.initiator}` : v.initiator,
    });
  return {
    form: v,
    types: types.map((t) => ({ ...t, selected: t.type === v.type })),
    buckets: BUCKETS.map((b) => ({ value: b, label: BUCKET_LABELS[b], selected: b === v.status })),
    reasons: REASON_CODES.map((r) => ({ value: r, label: REASON_LABELS[r], selected: r === v.reason })),
    initiators: initiators.map((o) => ({ ...o, selected: o.value === v.initiator })),
    pageSizes: PAGE_SIZES.map((n) => ({ value: n, selected: String(n) === v.limit })),
    fromValue: v.from,
    toValue: v.to,
    filtered: Boolean(v.type || v.status || v.from || v.to || v.reason || v.initiator || v.q),
  };
}

/** The columns a row adds to the run summary: what it acts on and why it failed. */
export function rowExtras(run: OperationRun) {
  const reason = run.topReason;
  const extras: {
    target: string | null;
    reason: string | null;
    reasonLabel: string | null;
    durationMs?: number;
  } = {
    target: run.target,
    reason,
    reasonLabel: reason ? (REASON_LABELS[reason as ReasonCode] ?? reason) : null,
  };
  // The stored duration (what the column sorts by) once the run has ended; a live one meanwhile.
  if (run.durationMs !== null) extras.durationMs = run.durationMs;
  return extras;
}

/** What a list row shows, as text: the row template then only places strings (no helper per cell). */
export function rowCells(
  row: Pick<
    ReturnType<typeof runSummary>,
    | 'status'
    | 'bucket'
    | 'stateLabel'
    | 'noItems'
    | 'processed'
    | 'total'
    | 'succeeded'
    | 'failed'
    | 'skipped'
    | 'bar'
    | 'createdAt'
    | 'durationMs'
  >,
  timeZone: string | null | undefined,
) {
  const cancelled = row.status === 'aborted';
  return {
    badgeClass: cancelled ? 'cancelled' : row.bucket,
    badgeText: cancelled ? 'Cancelled' : row.stateLabel,
    // Numbers and fixed class names only, so the bar is safe to place unescaped.
    progressHtml: row.noItems
      ? '<span class="progress-none">No items were processed.</span>'
      : `<svg class="progress" viewBox="0 0 100 4" preserveAspectRatio="none" role="progressbar" aria-valuemin="0" aria-valuemax="${Number(row.total)}" aria-valuenow="${Number(row.processed)}" aria-label="${Number(row.processed)} of ${Number(row.total)} items processed"><rect class="p-track" x="0" y="0" width="100" height="4"/>${row.bar
          .map((b) => `<rect class="p-${b.cls}" x="${b.x}" y="0" width="${b.w}" height="4"/>`)
          .join('')}</svg>`,
    processedText: formatNumber(row.processed),
    totalText: formatNumber(row.total),
    succeededText: formatNumber(row.succeeded),
    failedText: row.noItems ? '—' : formatNumber(row.failed),
    skippedText: formatNumber(row.skipped),
    createdIso: isoTime(row.createdAt),
    createdExact: utcTime(row.createdAt, timeZone),
    createdRel: relativeTime(row.createdAt),
    durationText: row.durationMs ? humanDuration(row.durationMs) : '—',
  };
}

/** What one list row places: the run summary's text cells (rowCells) and a few of its fields. */
export interface RowText extends ReturnType<typeof rowCells> {
  id: number;
  href: string;
  label: string;
  type: string;
  status: string;
  target: string | null;
  reason: string | null;
  reasonLabel: string | null;
  noItems: boolean;
  initiator: string;
  stalled?: boolean;
  stalledFor?: string;
  tenantSlug?: string;
  tenantName?: string;
}

const MUTED_DASH = '<span class="muted">—</span>';

/**
 * The list's `<tr>` rows as one HTML string, built in code rather than by a template: 25 rows of 12
 * cells take 58 µs here against 179 µs as Handlebars expressions, about 2 % of a list request (see
 * bench/evidence/pipeline-profile.md). Every value is escaped as a template's `{{value}}` is;
 * `progressHtml` alone is placed as is (numbers and fixed class names, see rowCells).
 */
export function rowsHtml(rows: RowText[], opts: { bulk: boolean; showTenant: boolean }): string {
  let out = '';
  for (const r of rows) out += rowHtml(r, opts);
  return out;
}

/** One row of rowsHtml. */
export function rowHtml(r: RowText, opts: { bulk: boolean; showTenant: boolean }): string {
  let out = '';
  const id = e(r.id);
  const href = e(r.href);
  out += '<tr>';
  if (opts.showTenant)
    out += `<td data-label="Tenant"><a href="/admin/t/${e(r.tenantSlug)}/operations">${e(r.tenantName)}</a></td>`;
  out += `<td data-label="Run">${
    opts.bulk
      ? `<input type="checkbox" class="select-box" name="run_ids" value="${id}" form="bulk-form" aria-label="Select run #${id}">`
      : ''
  }<a href="${href}">#${id}</a></td>`;
  out += `<td data-label="Type"><a href="${href}">${e(r.label)}</a><br><small class="muted"><code>${e(r.type)}</code></small></td>`;
  out += `<td data-label="Target">${r.target ? e(r.target) : MUTED_DASH}</td>`;
  out += `<td data-label="Status"><span class="badge badge-${e(r.badgeClass)}" title="Raw status: ${e(r.status)}">${e(r.badgeText)}</span>${
    r.stalled
      ? ` <span class="badge badge-stalled" title="No progress for ${e(r.stalledFor)}">stalled</span>`
      : ''
  }</td>`;
  out += `<td data-label="Failure reason">${
    r.reasonLabel ? `<span class="reason" title="${e(r.reason)}">${e(r.reasonLabel)}</span>` : MUTED_DASH
  }</td>`;
  out += `<td data-label="Progress">${r.progressHtml}${
    r.noItems ? '' : `<span class="progress-label">${e(r.processedText)} / ${e(r.totalText)}</span>`
  }</td>`;
  out += `<td data-label="Succeeded" class="num">${e(r.succeededText)}</td><td data-label="Failed" class="num">${e(r.failedText)}</td><td data-label="Skipped" class="num">${e(r.skippedText)}</td>`;
  out += `<td data-label="Initiator">${e(r.initiator)}</td>`;
  out += `<td data-label="Created"><time datetime="${e(r.createdIso)}" title="${e(r.createdExact)}">${e(r.createdRel)}</time></td>`;
  out += `<td data-label="Duration" class="num">${e(r.durationText)}</td></tr>\n`;
  return out;
}

/** Stands in for the "created … ago" text while an ended run's row is kept (it passes escaping as is). */
const REL_MARK = '\u0000rel\u0000';

/**
 * An ended run's row as the text before and after its "created … ago" cell: all it shows besides that
 * is fixed once the run has ended, so a list page served again (the run page cache keeps the same run
 * objects) writes the row from these two strings and the one relative time.
 */
export function keptRow(r: RowText, opts: { bulk: boolean; showTenant: boolean }): [string, string] | null {
  const html = rowHtml({ ...r, createdRel: REL_MARK }, opts);
  const at = html.indexOf(REL_MARK);
  // A text of the run's own that holds the mark (NUL characters) cannot be split: not kept.
  if (at < 0 || html.indexOf(REL_MARK, at + 1) >= 0) return null;
  return [html.slice(0, at), html.slice(at + REL_MARK.length)];
}

/** The sortable headers: each a link to its sort (the current one flips its order), with aria-sort. */
export function sortHeaders(base: string, f: RunFilters) {
  const current = f.sort ?? { by: 'created' as RunSortKey, dir: 'desc' as const };
  return Object.fromEntries(
    RUN_SORT_KEYS.map((by) => {
      const on = current.by === by;
      const dir = on && current.dir === 'desc' ? 'asc' : 'desc';
      const label = SORT_LABELS[by];
      return [
        by,
        {
          label,
          href: base + filterQuery(f, { sort: by, order: dir }),
          ariaSort: on ? (current.dir === 'desc' ? 'descending' : 'ascending') : null,
          arrow: on ? (current.dir === 'desc' ? '↓' : '↑') : '',
          title: `Sort by ${label.toLowerCase()}, ${dir === 'desc' ? 'largest or newest first' : 'smallest or oldest first'}`,
        },
      ];
    }),
  ) as Record<
    RunSortKey,
    { label: string; href: string; ariaSort: string | null; arrow: string; title: string }
  >;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * "1–25 of 412" (or "of more than 1,000" where the total was counted up to its cap). The position is
 * carried by the pager's links; a page reached without it shows the total alone.
 */
export function rangeText(pos: number | undefined, shown: number, total: RunTotal, atTop: boolean): string {
  const of = total.exact ? fmt(total.n) : `more than ${fmt(total.n)}`;
  if (!shown) return '';
  const start = atTop ? 0 : pos;
  if (start === undefined) return `${of} run${total.exact && total.n === 1 ? '' : 's'} in all`;
  return `${fmt(start + 1)}–${fmt(start + shown)} of ${of}`;
}

/** Links of the keyset pager: older/newer keep the sort, the filters and where the page starts. */
export function pagerModel(base: string, f: RunFilters, page: RunPage) {
  const by = f.sort?.by ?? 'created';
  const first = page.rows[0];
  const last = page.rows[page.rows.length - 1];
  const hasOlder = f.direction === 'older' ? page.hasMore : true;
  const hasNewer = f.direction === 'newer' ? page.hasMore : Boolean(f.cursor);
  const pos = f.cursor ? f.pos : 0;
  return {
    olderHref:
      hasOlder && last
        ? base +
          filterQuery(f, {
            cursor: encodeCursor(cursorAfter(last, by)),
            pos: pos === undefined ? undefined : String(pos + page.rows.length),
          })
        : null,
    newerHref:
      hasNewer && first
        ? base +
          filterQuery(f, {
            newer: encodeCursor(cursorAfter(first, by)),
            pos: pos === undefined ? undefined : String(Math.max(0, pos - f.limit)),
          })
        : null,
    firstHref: base + filterQuery(f),
    isFirstPage: !f.cursor,
    // The filter form keeps the sort the headers chose (hidden fields), so applying a filter keeps it.
    sortedBy: f.sort ? by : null,
    sortedAsc: f.sort?.dir === 'asc',
  };
}

/** The filters of a list as a saved view keeps them: everything but paging. */
export function viewQuery(f: RunFilters): string {
  return filterQuery(f).slice(1);
}

/** The filters as the runs query takes them (it resolves a search to its run id and targets). */
export function listFilterOf(tenantIds: number[], f: RunFilters, me: number): RunListFilter {
  const listFilter = toListFilter(tenantIds[0] ?? 0, f, me);
  if (tenantIds.length !== 1) listFilter.tenantIds = tenantIds;
  if (f.search) listFilter.searchText = f.search;
  return listFilter;
}

/** Runs a bulk action takes at once: the longest page. */
export const MAX_BULK = 100;

/** The run ids ticked on a list (`run_ids`, or `run_ids[]` as some clients name them), or a readable 400. */
export function bulkIds(body: unknown): number[] {
  const b = (body ?? {}) as Record<string, unknown>;
  const raw = b.run_ids ?? b['run_ids[]'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (!list.length)
    throw AppError.invalid({ run_ids: 'Select at least one run first: tick the boxes beside the runs.' });
  if (list.length > MAX_BULK)
    throw AppError.invalid({
      run_ids: `At most ${MAX_BULK} runs at once (${list.length.toLocaleString('en-US')} were selected): select fewer, a page at a time.`,
    });
  const ids = list.map((v) => (typeof v === 'string' && /^[1-9]\d{0,14}$/.test(v) ? Number(v) : NaN));
  if (ids.some((id) => Number.isNaN(id)))
    throw AppError.invalid({ run_ids: 'A selected run is not a run id: reload the list and select again.' });
  return [...new Set(ids)];
}

/** Where a form on the list came from (its `back` field): the list's query string, or nothing. */
export function backQuery(body: unknown): string {
  const back = (body as Record<string, unknown> | undefined)?.back;
  return typeof back === 'string' && back.length <= 2000 && /^\?[^\s#]*$/.test(back) ? back : '';
}

/** "3 cancelled, 1 had already ended": the non-zero parts, in order. */
export function countedSummary(parts: Array<[number, string]>): string {
  const said = parts.filter(([n]) => n > 0).map(([n, what]) => `${n.toLocaleString('en-US')} ${what}`);
  return said.length ? `${said.join(', ')}.` : 'Nothing was changed.';
}
