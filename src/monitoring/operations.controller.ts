import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
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
  cancelDetail,
  describeSelection,
  type ItemName,
  OperationRun,
  retryOffer,
  RunActionsService,
  RUN_EVENTS,
  runHref,
  type RunLinkContext,
  RunsQueryService,
  RunStallService,
  RunStarter,
  RunTypeRegistry,
} from '../runs';
import { flash, FormPage, humanDuration, NoLayout, redirectSeeOther } from '../web';
import { encodeCursor, filterQuery, parseRunFilters, PRESETS, RunFilters, toListFilter } from './run-filters';
import { announcement, failedItemIds, failureView, liveKey, runSummary } from './run-view';
import { chartModel } from './runs-chart';

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
    private readonly events: EventEmitter2,
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
    res.render('runs/list', {
      title: 'Operations',
      nav: 'operations',
      ...(await this.listModel(tenant, filters, page)),
      ...chartModel(days, tenant.slug),
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

  /** The chart alone, for its live refresh while a run of its days is queued or running. */
  @Get('chart')
  @NoLayout()
  @Can('read', 'Run')
  async chart(@Res() res: Response, @CurrentTenant() tenant: TenantContext) {
    const days = await this.query.perDay(tenant.id, CHART_DAYS);
    res.render('runs/_chart', { layout: false, ...chartModel(days, tenant.slug) });
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
    const locals = await this.detailLocals(req);
    // The reader has the run in front of them: what their notifications said about it is read (and
    // the bell on this very page counts so).
    await this.events.emitAsync(RUN_EVENTS.viewed, {
      runId: id,
      tenantId: tenant.id,
      userId: req.principal.id,
    });
    res.render('runs/detail', locals);
  }

  /**
   * The run page's locals: its GET, and a cancel or retry refused (the run ended meanwhile, nothing
   * worth retrying) shows the page again with the reason beside its actions.
   */
  async detailLocals(req: AuthedRequest) {
    const tenant = req.tenant!;
    const row = await this.load(tenant, Number(req.params.id));
    const def = this.registry.get(row.runType());
    const linkCtx = this.linkContext(row, tenant);
    const [related, context, children, audit, itemNames] = await Promise.all([
      def?.related ? def.related(linkCtx) : [],
      def?.describe ? def.describe(linkCtx) : [],
      this.query.children(tenant.id, row.id),
      this.audit.forRun(tenant.id, row.id),
      this.itemNames(row, linkCtx),
    ]);
    const names = await this.auth.namesOf([
      row.userId,
      ...children.map((c) => c.userId),
      ...audit.map((a) => a.actorId),
    ]);
    const run = await this.summary(row, tenant, names);
    return {
      title: `${run.label} #${run.id}`,
      nav: 'operations',
      run,
      ...failureView(row, itemNames),
      related,
      context: context.length ? context : this.defaultContext(row.payload ?? {}),
      payloadJson: JSON.stringify(row.payload ?? {}, null, 2),
      itemCount: row.itemIds?.length ?? 0,
      children: children.map((c) =>
        runSummary(c, tenant.slug, this.registry.labelOf(c.runType()), nameOf(names, c.userId)),
      ),
      liveUrl: this.liveUrl(tenant, run),
      ...this.runActions(req, row, run, Boolean(def)),
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
    };
  }

  /**
   * The live part of the detail page (header and actions, counts, progress, and the failures out of
   * band); once the run is terminal the fragment stops asking for more. `seen` is the state the page
   * last showed: only a change of it is announced to screen readers, not every refresh.
   */
  @Get(':id/live')
  @NoLayout()
  @Can('read', 'Run')
  @Ids({ id: 'run' })
  async live(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
    @Query('seen') seen?: unknown,
  ) {
    const row = await this.load(tenant, id);
    const def = this.registry.get(row.runType());
    const run = await this.summary(row, tenant, await this.auth.namesOf([row.userId]));
    res.render('runs/_live', {
      layout: false,
      run,
      ...failureView(row, await this.itemNames(row, this.linkContext(row, tenant))),
      liveUrl: this.liveUrl(tenant, run),
      ...this.runActions(req, row, run, Boolean(def)),
      announce: seen === liveKey(run) ? null : announcement(run),
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
  @FormPage('runs/detail', 'detailLocals')
  async cancel(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
  ) {
    const run = await this.actions.cancel(tenant.id, id, req.principal);
    flash(req, 'warning', `Run #${run.id}: ${cancelDetail(run).toLowerCase()}.`);
    await redirectSeeOther(req, res, runHref(tenant.slug, id));
  }

  @Post(':id/retry')
  @Can('retry', 'Run')
  @Ids({ id: 'run:failed' }, { consumes: true })
  @FormPage('runs/detail', 'detailLocals')
  async retry(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
  ) {
    const start = await this.actions.retry(tenant.id, id, req.principal);
    const left = start.leftOut
      ? ` ${start.leftOut.toLocaleString('en-US')} failed item${start.leftOut === 1 ? '' : 's'} that cannot pass on another attempt ${start.leftOut === 1 ? 'was' : 'were'} left out.`
      : '';
    await answerStart(req, res, start, {
      tenantSlug: tenant.slug,
      to: runHref(tenant.slug, id),
      queued: `Retry of ${describeSelection({ items: start.run.itemIds ?? undefined, failed: start.failed, unprocessed: start.unprocessed })} queued as run #${start.run.id}.${left}`,
      reused: `A retry of run #${id} is already under way (run #${start.run.id}).`,
    });
  }

  /**
   * Cancel while active; retry once partial or failed, when another attempt could change something
   * (else the reason it is not offered); nothing for roles that may do neither.
   */
  private runActions(
    req: AuthedRequest,
    row: OperationRun,
    run: Awaited<ReturnType<OperationsController['summary']>>,
    producerKnown: boolean,
  ) {
    const tenant = req.tenant!;
    const can = (a: 'cancel' | 'retry') => !tenant.archived && req.ability.can(a, inTenant('Run', tenant.id));
    const base = runHref(tenant.slug, run.id);
    const actions: Array<{ id: string; label: string; href: string; style: string; note?: string }> = [];
    let noRetry: string | null = null;
    if (run.active && can('cancel'))
      actions.push({ id: 'run-cancel', label: 'Cancel run', href: `${base}/cancel`, style: 'secondary' });
    if (!run.active && (run.bucket === 'partial' || run.bucket === 'failed') && can('retry')) {
      const offer = retryOffer(row);
      if (!producerKnown) noRetry = 'No retry: no producer handles this run type any more.';
      else if (!offer.offered) noRetry = `No retry offered. ${offer.reason}`;
      else
        actions.push({
          id: 'run-retry',
          label: offer.label,
          href: `${base}/retry`,
          style: '',
          note: offer.reason,
        });
    }
    return { actions, noRetry };
  }

  private linkContext(row: OperationRun, tenant: TenantContext): RunLinkContext {
    return {
      id: row.id,
      tenantSlug: tenant.slug,
      payload: row.payload ?? {},
      status: row.status,
      itemIds: row.itemIds ?? null,
    };
  }

  /** The failed items' names, where the run's producer can name them (a policy, say). */
  private async itemNames(row: OperationRun, linkCtx: RunLinkContext): Promise<ItemName[]> {
    const ids = failedItemIds(row);
    const handler = this.registry.get(row.runType())?.handler;
    if (!ids.length || !handler?.itemNames) return [];
    return handler.itemNames(linkCtx, ids).catch(() => []);
  }

  /** The live fragment's address, saying which state the page shows now (see live()). */
  private liveUrl(tenant: TenantContext, run: { id: number } & Parameters<typeof liveKey>[0]): string {
    return `${runHref(tenant.slug, run.id)}/live?seen=${encodeURIComponent(liveKey(run))}`;
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
    // A run waiting out a provider's Retry-After is not stuck, however long the wait.
    const stalled = idle !== null && !s.waiting;
    return { ...s, stalled, stalledFor: stalled ? humanDuration(idle) : undefined };
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
