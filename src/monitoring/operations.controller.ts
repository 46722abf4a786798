import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AuditService } from '../audit';
import type { Response } from 'express';
import {
  AuthService,
  controlFor,
  Can,
  CurrentTenant,
  Ids,
  inTenant,
  type AuthedRequest,
  type TenantContext,
} from '../auth';
import { AppError } from '../common/app-error';
import { IdPipe } from '../common/id.pipe';
import {
  answerStart,
  BUCKET_LABELS,
  BUCKETS,
  describeSelection,
  OperationRun,
  RunActionsService,
  runHref,
  RunsQueryService,
  RunStallService,
  RunStarter,
  RunTypeRegistry,
} from '../runs';
import { flash, humanDuration, NoLayout, redirectSeeOther } from '../web';
import { encodeCursor, filterQuery, parseRunFilters, PRESETS, RunFilters, toListFilter } from './run-filters';
import { failureView, runSummary } from './run-view';
import { bucketTotals, renderRunsChart } from './runs-chart';

const PAGE_SIZE = 25;
const CHART_DAYS = 14;

function toInputValue(d: Date | undefined): string {
  return d ? d.toISOString().slice(0, 16) : '';
}

/** Monitoring → Operations: every run of the tenant in one list, and a page per run. */
@ApiExcludeController()
@Controller('admin/t/:tenant/operations')
export class OperationsController {
  constructor(
    private readonly query: RunsQueryService,
    private readonly registry: RunTypeRegistry,
    private readonly actions: RunActionsService,
    private readonly stall: RunStallService,
    private readonly auth: AuthService,
    private readonly starter: RunStarter,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @Can('read', 'Run')
  async list(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Query() q: Record<string, unknown>,
  ) {
    const [{ filters, page }, days] = await Promise.all([
      this.page(tenant, q),
      this.query.perDay(tenant.id, CHART_DAYS),
    ]);
    const totals = bucketTotals(days);
    res.render('runs/list', {
      title: 'Operations',
      nav: 'operations',
      ...(await this.listModel(tenant, filters, page)),
      chart: renderRunsChart(days),
      chartTotal: totals.reduce((s, t) => s + t.count, 0),
      totals,
      types: this.registry
        .all()
        .map((t) => ({ type: t.type, label: t.label, selected: t.type === filters.type })),
      startMenu: this.registry.startable().map((t) => ({
        id: `start-${t.type.replace('.', '-')}`,
        label: t.start!.label,
        action: `/admin/t/${tenant.slug}/operations/start/${t.type}`,
      })),
      startControl: controlFor(req, 'start', 'Run', 'runs'),
      buckets: BUCKETS.map((b) => ({ value: b, label: BUCKET_LABELS[b], selected: b === filters.bucket })),
      presets: [
        {
          label: 'All time',
          href: `?${new URLSearchParams(this.keep(filters)).toString()}`,
          current: !filters.preset && !filters.from && !filters.to,
        },
        ...Object.keys(PRESETS).map((p) => ({
          label: `Last ${p}`,
          href: `?${new URLSearchParams({ ...this.keep(filters), preset: p }).toString()}`,
          current: filters.preset === p,
        })),
      ],
      fromValue: filters.preset ? '' : toInputValue(filters.from),
      toValue: toInputValue(filters.to),
      filtered: Boolean(filters.type || filters.bucket || filters.from || filters.to),
    });
  }

  /** The table alone, for the list's live refresh while runs on the first page are active. */
  @Get('rows')
  @NoLayout()
  @Can('read', 'Run')
  async rows(
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Query() q: Record<string, unknown>,
  ) {
    const { filters, page } = await this.page(tenant, q);
    res.render('runs/_rows', { layout: false, ...(await this.listModel(tenant, filters, page)) });
  }

  @Get(':id')
  @Can('read', 'Run')
  @Ids({ id: 'run' })
  async detail(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
  ) {
    const row = await this.load(tenant, id);
    const def = this.registry.get(row.runType());
    const linkCtx = {
      id: row.id,
      tenantSlug: tenant.slug,
      payload: row.payload ?? {},
      status: row.status,
      itemIds: row.itemIds ?? null,
    };
    const [related, context, children, audit] = await Promise.all([
      def?.related ? def.related(linkCtx) : [],
      def?.describe ? def.describe(linkCtx) : [],
      this.query.children(tenant.id, row.id),
      this.audit.forRun(tenant.id, row.id),
    ]);
    const names = await this.auth.namesOf([
      row.userId,
      ...children.map((c) => c.userId),
      ...audit.map((a) => a.actorId),
    ]);
    const run = await this.summary(row, tenant, names);
    res.render('runs/detail', {
      title: `${run.label} #${run.id}`,
      nav: 'operations',
      run,
      ...failureView(row),
      related,
      context: context.length ? context : this.defaultContext(row.payload ?? {}),
      payloadJson: JSON.stringify(row.payload ?? {}, null, 2),
      itemCount: row.itemIds?.length ?? 0,
      children: children.map((c) =>
        runSummary(c, tenant.slug, this.registry.labelOf(c.runType()), nameOf(names, c.userId)),
      ),
      liveUrl: `${runHref(tenant.slug, row.id)}/live`,
      actions: this.runActions(req, run, Boolean(def)),
      audit: [
        {
          at: row.createdAt,
          actor: run.initiator,
          description: `Started ${run.label}${row.parentRunId ? ` (retry of run #${row.parentRunId})` : ''}`,
        },
        ...audit.map((a) => ({
          at: a.at,
          actor: nameOf(names, a.actorId) ?? 'System',
          description: a.detail,
        })),
      ],
      // Without JavaScript an active run's page still follows along, just less often.
      refreshSeconds: run.active ? 5 : undefined,
    });
  }

  /** The live part of the detail page; once the run is terminal the fragment stops asking for more. */
  @Get(':id/live')
  @NoLayout()
  @Can('read', 'Run')
  @Ids({ id: 'run' })
  async live(@Res() res: Response, @CurrentTenant() tenant: TenantContext, @Param('id', IdPipe) id: number) {
    const row = await this.load(tenant, id);
    res.render('runs/_live', {
      layout: false,
      run: await this.summary(row, tenant, await this.auth.namesOf([row.userId])),
      ...failureView(row),
      liveUrl: `${runHref(tenant.slug, row.id)}/live`,
    });
  }

  /** The start menu's button: a type that offers itself there (see RunTypeDefinition.start). */
  @Post('start/:type')
  @Can('start', 'Run')
  @Ids({ type: 'startable_type' })
  async start(@Req() req: AuthedRequest, @Res() res: Response, @Param('type') type: string) {
    await this.starter.fromMenu(req, res, type);
  }

  @Post(':id/cancel')
  @Can('cancel', 'Run')
  @Ids({ id: 'run:pending' }, { consumes: true })
  async cancel(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
  ) {
    const run = await this.actions.cancel(tenant.id, id, req.principal);
    flash(req, 'warning', `Run #${run.id} cancelled after ${run.processedItems} of ${run.totalItems} items.`);
    await redirectSeeOther(req, res, runHref(tenant.slug, id));
  }

  @Post(':id/retry')
  @Can('retry', 'Run')
  @Ids({ id: 'run:failed' }, { consumes: true })
  async retry(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
  ) {
    const start = await this.actions.retry(tenant.id, id, req.principal);
    await answerStart(req, res, start, {
      tenantSlug: tenant.slug,
      to: runHref(tenant.slug, id),
      queued: `Retry of ${describeSelection({ items: start.run.itemIds ?? undefined, failed: start.failed, unprocessed: start.unprocessed })} queued as run #${start.run.id}.`,
      reused: `A retry of run #${id} is already under way (run #${start.run.id}).`,
    });
  }

  /** Cancel while active, retry once partial or failed; hidden from roles that may do neither. */
  private runActions(
    req: AuthedRequest,
    run: Awaited<ReturnType<OperationsController['summary']>>,
    producerKnown: boolean,
  ) {
    const tenant = req.tenant!;
    const can = (a: 'cancel' | 'retry') => req.ability.can(a, inTenant('Run', tenant.id));
    const base = runHref(tenant.slug, run.id);
    const out: Array<{ label: string; href?: string; allowed: boolean; reason?: string; style: string }> = [];
    if (run.active && can('cancel'))
      out.push({ label: 'Cancel run', href: `${base}/cancel`, allowed: true, style: 'secondary' });
    if (!run.active && (run.bucket === 'partial' || run.bucket === 'failed') && can('retry')) {
      out.push(
        producerKnown
          ? {
              label: run.failed > 0 ? 'Retry failed items' : 'Retry run',
              href: `${base}/retry`,
              allowed: true,
              style: '',
            }
          : {
              label: 'Retry',
              allowed: false,
              reason: 'No producer handles this run type any more.',
              style: '',
            },
      );
    }
    return out;
  }

  /** A run's view model plus its stalled flag. */
  private async summary(row: OperationRun, tenant: TenantContext, names: Map<number, string>) {
    const s = runSummary(row, tenant.slug, this.registry.labelOf(row.runType()), nameOf(names, row.userId));
    const idle = await this.stall.stalledFor({
      tenantId: tenant.id,
      resource: row.resource,
      action: row.action,
      status: row.status,
      updatedAt: row.updatedAt,
    });
    return { ...s, stalled: idle !== null, stalledFor: idle !== null ? humanDuration(idle) : undefined };
  }

  private async load(tenant: TenantContext, id: number): Promise<OperationRun> {
    const row = await this.query.get(tenant.id, id);
    if (!row) throw AppError.notFound('Run');
    return row;
  }

  private async page(tenant: TenantContext, q: Record<string, unknown>) {
    const filters = parseRunFilters(q, this.registry.typeNames(), { defaultLimit: PAGE_SIZE, maxLimit: 100 });
    const listFilter = toListFilter(tenant.id, filters);
    let page = await this.query.list(listFilter);
    if (filters.direction === 'newer' && !page.hasMore) {
      // Back at the top: show a full first page rather than the few rows newer than the cursor.
      filters.cursor = undefined;
      filters.direction = 'older';
      page = await this.query.list({ ...listFilter, cursor: undefined, direction: 'older' });
    }
    return { filters, page };
  }

  private async listModel(
    tenant: TenantContext,
    filters: RunFilters,
    page: Awaited<ReturnType<RunsQueryService['list']>>,
  ) {
    const names = await this.auth.namesOf(page.rows.map((r) => r.userId));
    const runs = await Promise.all(page.rows.map((r) => this.summary(r, tenant, names)));
    const first = page.rows[0];
    const last = page.rows[page.rows.length - 1];
    const hasOlder = filters.direction === 'older' ? page.hasMore : true;
    const hasNewer = filters.direction === 'newer' ? page.hasMore : Boolean(filters.cursor);
    const isFirstPage = !filters.cursor;
    const base = `/admin/t/${tenant.slug}/operations`;
    return {
      runs,
      olderHref:
        hasOlder && last
          ? base + filterQuery(filters, { cursor: encodeCursor({ createdAt: last.createdAt, id: last.id }) })
          : null,
      newerHref:
        hasNewer && first
          ? base + filterQuery(filters, { newer: encodeCursor({ createdAt: first.createdAt, id: first.id }) })
          : null,
      firstHref: base + filterQuery(filters),
      isFirstPage,
      // Only the first page follows new and active runs live; deeper pages stay put.
      liveRowsUrl: isFirstPage && runs.some((r) => r.active) ? `${base}/rows${filterQuery(filters)}` : null,
      clearHref: base,
    };
  }

  private keep(f: RunFilters): Record<string, string> {
    const o: Record<string, string> = {};
    if (f.type) o.type = f.type;
    if (f.bucket) o.status = f.bucket;
    return o;
  }

  private defaultContext(payload: Record<string, unknown>) {
    return Object.entries(payload).map(([label, value]) => ({
      label,
      value: typeof value === 'string' ? value : JSON.stringify(value),
    }));
  }
}

function nameOf(names: Map<number, string>, userId: number | null): string | null {
  return userId === null ? null : (names.get(userId) ?? null);
}
