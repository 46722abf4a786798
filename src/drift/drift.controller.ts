import { Body, Controller, Get, Logger, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Can, controlFor, CurrentTenant, type AuthedRequest, type TenantContext } from '../auth';
import { AppError } from '../common/app-error';
import { idParam, pager, textParam } from '../common/query-params';
import {
  DEFAULT_PAGE_SIZE,
  fieldReader,
  mapBatches,
  pageSizeOptions,
  rangeText,
  sortHeaders,
  streamCsv,
  tableParams,
  tableQuery,
  typedValues,
  type SortDir,
  type SortSpec,
  type TableParams,
} from '../common/table-params';
import { policyTypeLabel } from '../policies';
import { answerStart, isActive, type RunStatus } from '../runs';
import { FormPage } from '../web';
import type { ChangeType } from './drift-diff';
import { CHANGE_TYPES, comparisonOf, DriftService, type FindingSortKey } from './drift.service';

const logger = new Logger('DriftController');

/** By change type (then policy type and name), as the list always was, or by policy name. */
const FINDING_SORT: SortSpec<FindingSortKey> = {
  labels: { change: 'Change', name: 'Policy' },
  first: { change: 'asc', name: 'asc' },
  default: { by: 'change', dir: 'asc' },
};
const FORM_KEYS = ['q', 'change', 'limit', 'sort', 'order'];

const isDefaultSort = (s: { by: FindingSortKey; dir: SortDir }) =>
  s.by === FINDING_SORT.default.by && s.dir === FINDING_SORT.default.dir;

interface FindingListParams extends TableParams<FindingSortKey> {
  runId?: number;
  changeType?: ChangeType;
}

/** The list's parameters; a bad one falls back to its default and its error is collected. */
function parseFindingList(q: Record<string, unknown>): {
  params: FindingListParams;
  errors: Record<string, string> | null;
} {
  const reader = fieldReader();
  const runId = reader.read(
    () => idParam(q.run, 'run', 'the id of a drift generation run'),
    undefined,
    'run',
  );
  const changeType = reader.read(
    () => {
      const change = textParam(q.change, 'change');
      if (change && !CHANGE_TYPES.includes(change as ChangeType))
        throw AppError.badRequest(`"change" must be one of: ${CHANGE_TYPES.join(', ')}.`);
      return change as ChangeType | undefined;
    },
    undefined,
    'change',
  );
  const table = tableParams(q, FINDING_SORT, reader);
  return { params: { ...table, runId, changeType }, errors: reader.failed ? reader.errors : null };
}

function filterParams(runId: number, p: FindingListParams): Record<string, string | undefined> {
  return { run: String(runId), change: p.changeType };
}

function formOf(p: FindingListParams): Record<string, string> {
  return {
    q: p.search ?? '',
    change: p.changeType ?? '',
    limit: String(p.limit),
    sort: p.sort.by,
    order: p.sort.dir,
  };
}

/** A setting's value in the CSV, as the page shows it. */
const show = (v: unknown) => (v === undefined || v === null || v === '' ? '(absent)' : String(v));

@Controller('admin/t/:tenant/drift')
export class DriftController {
  constructor(private readonly drift: DriftService) {}

  @Get()
  @Can('read', 'Finding')
  async landing(@Req() req: AuthedRequest, @Res() res: Response) {
    res.render('drift/landing', await this.landingLocals(req));
  }

  /**
   * The landing page's locals: its GET, and a Generate refused (no two syncs, an unknown scope) shown
   * again with the reason. A scope whose comparison is queued or running says so, instead of the
   * previous counts, and its Generate waits for it to end; the table then follows it live.
   */
  async landingLocals(req: AuthedRequest) {
    const tenant = req.tenant!;
    const role = controlFor(req, 'start', 'Run', 'drift');
    const scopes = await Promise.all(
      (await this.drift.scopeStates(tenant.id)).map(async (c) => {
        const { scope, latest } = c;
        const ready = Boolean(c.baseline && c.current);
        const generating = latest !== null && isActive(latest.status as RunStatus);
        const upToDate =
          latest &&
          c.current &&
          latest.currentRunId === c.current.id &&
          latest.baselineRunId === c.baseline?.id;
        return {
          ...scope,
          typeLabels: scope.types.map(policyTypeLabel),
          baseline: c.baseline,
          current: c.current,
          latest,
          generating,
          counts:
            latest && !generating
              ? await this.drift.counts(tenant.id, {
                  scopeKey: scope.key,
                  baselineRunId: latest.baselineRunId,
                  currentRunId: latest.currentRunId,
                })
              : null,
          upToDate,
          control: !role.allowed
            ? role
            : generating
              ? {
                  allowed: false,
                  reason: `Being generated as run #${latest.id}. Generate is offered again when it ends.`,
                }
              : ready
                ? { allowed: true }
                : {
                    allowed: false,
                    reason:
                      'Needs two successful inventory syncs to compare. Run "Sync now" on the Policies page.',
                  },
        };
      }),
    );
    return {
      title: 'Drift',
      nav: 'drift',
      scopes,
      // While a comparison is queued or running, the table refreshes itself until it ends.
      live: scopes.some((s) => s.generating),
      refreshSeconds: scopes.some((s) => s.generating) ? 5 : undefined,
      readonlyReason: role.allowed ? null : role.reason,
    };
  }

  @Post('generate')
  @Can('start', 'Run')
  @FormPage('drift/landing', 'landingLocals')
  async generate(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Body() body: Record<string, unknown>,
  ) {
    const scope = typeof body.scope === 'string' && body.scope ? body.scope : this.drift.scopes()[0].key;
    const start = await this.drift.startGenerate(tenant.id, req.principal.id, scope);
    const { run } = start;
    await answerStart(req, res, start, {
      tenantSlug: tenant.slug,
      queued: `Drift generation queued as run #${run.id}.`,
      reused: `This comparison is already ${run.status === 'pending' ? 'queued' : 'running'} as run #${run.id}.`,
      to: `/admin/t/${tenant.slug}/drift`,
    });
  }

  /**
   * A comparison's findings: change-type links, a search by policy name, sortable columns, 25/50/100
   * rows a page and "1–25 of 80". A parameter it cannot use is answered on the page itself (status
   * 400), beside the filter form with what was typed kept, the findings shown without it.
   */
  @Get('findings')
  @Can('read', 'Finding')
  async findings(
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Query() q: Record<string, unknown>,
  ) {
    const { params, errors } = parseFindingList(q);
    if (errors) res.status(400);
    const filterError = errors
      ? `${Object.values(errors).join(' ')} The findings below are shown without that filter.`
      : null;
    const form = errors ? typedValues(q, FORM_KEYS) : formOf(params);
    const formModel = {
      form,
      filterErrors: errors,
      pageSizes: pageSizeOptions(form.limit || String(DEFAULT_PAGE_SIZE)),
    };

    const run = await this.findingsRun(tenant.id, params.runId);
    if (!run) {
      res.render('drift/findings', {
        title: 'Drift findings',
        nav: 'drift',
        empty: true,
        filterError,
        ...formModel,
      });
      return;
    }
    const p = run.payload ?? {};
    const comparison = comparisonOf(run);
    const filter = { ...comparison, changeType: params.changeType, search: params.search, sort: params.sort };
    const offset = (params.page - 1) * params.limit;
    const [{ rows, total }, counts] = await Promise.all([
      this.drift.findings(tenant.id, filter, offset, params.limit),
      this.drift.counts(tenant.id, comparison),
    ]);
    const base = `/admin/t/${tenant.slug}/drift/findings`;
    const link = (extra: Record<string, string | undefined> = {}, sort = params.sort) =>
      tableQuery({ ...params, sort }, FINDING_SORT, filterParams(run.id, params), extra);
    res.render('drift/findings', {
      title: 'Drift findings',
      nav: 'drift',
      filterError,
      ...formModel,
      run: {
        id: run.id,
        status: run.status,
        bucket: run.statusBucket,
        scopeName: p.scope_name,
        ...comparison,
      },
      findings: rows.map((f) => ({ ...f, typeLabel: policyTypeLabel(f.policyType) })),
      counts,
      total,
      range: rangeText(offset, rows.length, total),
      changeType: params.changeType,
      filtered: Boolean(params.changeType || params.search),
      listAction: base,
      clearHref: `${base}?run=${run.id}`,
      sortedBy: isDefaultSort(params.sort) ? null : params.sort,
      sort: sortHeaders(FINDING_SORT, params.sort, (sort) => base + link({}, sort)),
      exportHref: `${base}/export.csv${link()}`,
      changeFilters: [
        {
          label: 'All',
          href: tableQuery(params, FINDING_SORT, { run: String(run.id) }),
          current: !params.changeType,
        },
        ...CHANGE_TYPES.map((c) => ({
          label: c,
          href: tableQuery(params, FINDING_SORT, { ...filterParams(run.id, params), change: c }),
          current: c === params.changeType,
          count: counts[c],
        })),
      ],
      ...pager(params.page, total, params.limit, (n) => link({ page: String(n) })),
    });
  }

  /** The findings of the list as CSV (its search, change type and order), streamed a batch at a time. */
  @Get('findings/export.csv')
  @Can('read', 'Finding')
  async exportFindings(
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Query() q: Record<string, unknown>,
  ) {
    const { params, errors } = parseFindingList(q);
    if (errors) throw AppError.invalid(errors);
    const run = await this.findingsRun(tenant.id, params.runId);
    if (!run) throw AppError.notFound('Drift generation');
    const filter = {
      ...comparisonOf(run),
      changeType: params.changeType,
      search: params.search,
      sort: params.sort,
    };
    const day = new Date().toISOString().slice(0, 10);
    await streamCsv(
      res,
      `drift-findings-${tenant.slug}-run-${run.id}-${day}.csv`,
      [
        'change',
        'policy_name',
        'policy_type',
        'type_label',
        'external_id',
        'changed_settings',
        'run_id',
        'found_at',
      ],
      mapBatches(this.drift.findingBatches(tenant.id, filter), (f) => [
        f.changeType,
        f.displayName,
        f.policyType,
        policyTypeLabel(f.policyType),
        f.externalId,
        f.changes
          .map((c) => `${c.label ? `${c.label} (${c.path})` : c.path}: ${show(c.before)} → ${show(c.after)}`)
          .join('; '),
        f.runId,
        f.createdAt.toISOString(),
      ]),
      (e) => logger.error({ err: e }, 'Findings CSV export failed midway'),
    );
  }

  /** The drift run a findings list shows: the one asked for, or the latest of the first scope. */
  private async findingsRun(tenantId: number, runId: number | undefined) {
    if (runId) return this.drift.run(tenantId, runId);
    const latest = await this.drift.latestRun(tenantId, this.drift.scopes()[0].key);
    return latest ? this.drift.run(tenantId, latest.id) : null;
  }
}
