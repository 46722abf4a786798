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
import { AppError, FormError } from '../common/app-error';
import { IdPipe } from '../common/id.pipe';
import {
  answerStart,
  cancelDetail,
  describeSelection,
  type ItemName,
  OperationRun,
  retryOffer,
  RunActionsService,
  RUN_EVENTS,
  runHref,
  type RunLinkContext,
  type RunListFilter,
  type RunPage,
  type RunTotal,
  RunsQueryService,
  RunStallService,
  RunStarter,
  RunTypeRegistry,
} from '../runs';
import { escapeHtml, flash, FormPage, humanDuration, NoLayout, redirectSeeOther, relativeTime } from '../web';
import { filterQuery, keptFilters, parseRunFilters, PRESETS, RunFilters } from './run-filters';
import { announcement, failedItemIds, failureView, liveKey, runSummary } from './run-view';
import { chartModel } from './runs-chart';
import { SavedViewsRepository } from './saved-views.repository';
import {
  backQuery,
  bulkIds,
  countedSummary,
  filterFormModel,
  formValuesOf,
  listFilterOf,
  pagerModel,
  rangeText,
  rowCells,
  rowExtras,
  keptRow,
  rowHtml,
  sortHeaders,
  typedValuesOf,
  viewQuery,
} from './run-table';
import { writeRunsCsv } from './runs-csv';

const PAGE_SIZE = 25;
const CHART_DAYS = 14;
/** Saved views a user keeps at most (the list above the table shows them all). */
const MAX_VIEWS = 50;

/** A list page's filters and rows, or (a filter it cannot use) the errors and what was typed. */
type Listing =
  | {
      filters: RunFilters;
      listFilter: RunListFilter;
      page: RunPage;
      total: Promise<RunTotal>;
      errors?: undefined;
    }
  | { errors: Record<string, string>; typed: ReturnType<typeof typedValuesOf>; filters?: undefined };

/** Monitoring → Operations: every run of the tenant in one list, and a page per run. */
@ApiExcludeController()
@Controller('admin/t/:tenant/operations')
export class OperationsController {
  /**
   * The rows of ended runs on kept list pages (RunPageCache shares the same frozen runs until their
   * tenant's runs change), as the text around their "created … ago", per viewer variant: a repeat
   * view writes them without building their models again. Gone with the runs they belong to.
   */
  private readonly keptRows = new WeakMap<OperationRun, { variant: string; before: string; after: string }>();

  constructor(
    private readonly query: RunsQueryService,
    private readonly registry: RunTypeRegistry,
    private readonly actions: RunActionsService,
    private readonly stall: RunStallService,
    private readonly auth: AuthService,
    private readonly starter: RunStarter,
    private readonly audit: AuditService,
    private readonly events: EventEmitter2,
    private readonly views: SavedViewsRepository,
  ) {}

  /**
   * The list: filters, sortable columns, totals, bulk actions and saved views. A filter it cannot use
   * shows the page again with the message beside the filter form and what was typed (status 400).
   */
  @Get()
  @Can('read', 'Run')
  async list(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Query() q: Record<string, unknown>,
  ) {
    const listing = await this.listing(req, tenant, q);
    res.status(listing.errors ? 400 : 200).render('runs/list', await this.listLocals(req, tenant, listing));
  }

  /** The table alone, for the list's live refresh while runs on the first page are active. */
  @Get('rows')
  @NoLayout()
  @Can('read', 'Run')
  async rows(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Query() q: Record<string, unknown>,
  ) {
    const { filters, page, total } = await this.page(req, tenant, q);
    res.render('runs/_rows', {
      layout: false,
      ...(await this.listModel(req, tenant, filters, page, total)),
    });
  }

  /** The chart alone, for its live refresh while a run of its days is queued or running. */
  @Get('chart')
  @NoLayout()
  @Can('read', 'Run')
  async chart(@Res() res: Response, @CurrentTenant() tenant: TenantContext) {
    const days = await this.query.perDay(tenant.id, CHART_DAYS);
    res.render('runs/_chart', { layout: false, ...chartModel(days, tenant.slug) });
  }

  /** The filtered list as CSV, every matching run (streamed a keyset batch at a time). */
  @Get('export.csv')
  @Can('read', 'Run')
  async exportCsv(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Query() q: Record<string, unknown>,
  ) {
    const filters = this.parse(q);
    const listFilter = listFilterOf([tenant.id], filters, req.principal.id);
    const day = new Date().toISOString().slice(0, 10);
    await writeRunsCsv(res, `operations-${tenant.slug}-${day}.csv`, this.query.batches(listFilter), {
      label: (type) => this.registry.labelOf(type),
      names: (ids) => this.auth.namesOf(ids),
      href: (run) => runHref(tenant.slug, run.id),
    });
  }

  /** Cancels the selected runs that are still active; the flash counts what happened to each. */
  @Post('bulk-cancel')
  @Can('cancel', 'Run')
  @FormPage('runs/list', 'formLocals')
  async bulkCancel(@Req() req: AuthedRequest, @Res() res: Response, @CurrentTenant() tenant: TenantContext) {
    const ids = bulkIds(req.body);
    const outcome = { cancelled: 0, ended: 0, missing: 0 };
    for (const id of ids) {
      try {
        await this.actions.cancel(tenant.id, id, req.principal);
        outcome.cancelled++;
      } catch (e) {
        if (e instanceof FormError) outcome.ended++;
        else if (e instanceof AppError && e.code === 'not_found') outcome.missing++;
        else throw e;
      }
    }
    flash(
      req,
      outcome.cancelled ? 'success' : 'warning',
      countedSummary([
        [outcome.cancelled, 'cancelled'],
        [outcome.ended, 'had already ended'],
        [outcome.missing, 'not found in this tenant'],
      ]),
    );
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/operations${backQuery(req.body)}`);
  }

  /** Retries the failed items of each selected run that has something worth retrying. */
  @Post('bulk-retry')
  @Can('retry', 'Run')
  @FormPage('runs/list', 'formLocals')
  async bulkRetry(@Req() req: AuthedRequest, @Res() res: Response, @CurrentTenant() tenant: TenantContext) {
    const ids = bulkIds(req.body);
    const queued: number[] = [];
    const outcome = { reused: 0, nothing: 0, missing: 0 };
    for (const id of ids) {
      try {
        const start = await this.actions.retry(tenant.id, id, req.principal);
        if (start.reused) outcome.reused++;
        else queued.push(start.run.id);
      } catch (e) {
        if (e instanceof FormError) outcome.nothing++;
        else if (e instanceof AppError && e.code === 'not_found') outcome.missing++;
        else throw e;
      }
    }
    const list = queued.length
      ? ` (run${queued.length === 1 ? '' : 's'} ${queued.map((id) => `#${id}`).join(', ')})`
      : '';
    flash(
      req,
      queued.length ? 'success' : 'warning',
      countedSummary([
        [queued.length, `${queued.length === 1 ? 'retry' : 'retries'} queued${list}`],
        [outcome.reused, 'already being retried'],
        [outcome.nothing, 'had nothing to retry'],
        [outcome.missing, 'not found in this tenant'],
      ]),
    );
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/operations${backQuery(req.body)}`);
  }

  /** Saves the list's current filters (the form's `back`) under a name, for the signed-in user. */
  @Post('views')
  @Can('read', 'Run')
  @FormPage('runs/list', 'formLocals')
  async saveView(@Req() req: AuthedRequest, @Res() res: Response, @CurrentTenant() tenant: TenantContext) {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === 'string' ? body.name.replace(/\s+/g, ' ').trim() : '';
    if (!name) throw AppError.invalid({ name: 'Give the view a name, e.g. "My failed syncs".' });
    if (name.length > 80) throw AppError.invalid({ name: 'A view name is at most 80 characters.' });
    let filters: RunFilters;
    try {
      filters = this.parse(Object.fromEntries(new URLSearchParams(backQuery(body).slice(1))));
    } catch (e) {
      if (!(e instanceof FormError)) throw e;
      throw AppError.invalid({ name: `These filters cannot be saved: ${e.message}` });
    }
    const userId = req.principal.id;
    if (await this.views.exists(userId, name))
      throw AppError.invalid({
        name: `You already have a view named "${name}". Choose another name, or delete that view first.`,
      });
    if ((await this.views.count(userId)) >= MAX_VIEWS)
      throw AppError.invalid({ name: `You can keep ${MAX_VIEWS} saved views: delete one first.` });
    const query = viewQuery(filters);
    await this.views.save(userId, name, query);
    flash(req, 'success', `View "${name}" saved: it is listed above the table.`);
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/operations${query ? `?${query}` : ''}`);
  }

  @Post('views/:id/delete')
  @Can('read', 'Run')
  @Ids({ id: 'saved_view' }, { consumes: true })
  async deleteView(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
  ) {
    if (!(await this.views.delete(req.principal.id, id))) throw AppError.notFound('Saved view');
    flash(req, 'info', 'Saved view deleted.');
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/operations${backQuery(req.body)}`);
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
      tenantId: tenant.id,
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
  private async summary(
    row: OperationRun,
    tenant: TenantContext,
    names: Map<number, string>,
    now = Date.now(),
  ) {
    const s = runSummary(
      row,
      tenant.slug,
      this.registry.labelOf(row.runType()),
      nameOf(names, row.userId),
      now,
    );
    const idle = await this.stall.stalledFor(
      {
        tenantId: tenant.id,
        resource: row.resource,
        action: row.action,
        status: row.status,
        updatedAt: row.updatedAt,
      },
      now,
    );
    // A run waiting out a provider's Retry-After is not stuck, however long the wait.
    const stalled = idle !== null && !s.waiting;
    // Set on the summary itself: a page of rows copies no object (it used to be most of its garbage).
    return Object.assign(s, { stalled, stalledFor: stalled ? humanDuration(idle) : undefined });
  }

  private async load(tenant: TenantContext, id: number): Promise<OperationRun> {
    const row = await this.query.get(tenant.id, id);
    if (!row) throw AppError.notFound('Run');
    return row;
  }

  private parse(q: Record<string, unknown>): RunFilters {
    return parseRunFilters(q, this.registry.typeNames(), { defaultLimit: PAGE_SIZE, maxLimit: 100 });
  }

  private async page(req: AuthedRequest, tenant: TenantContext, q: Record<string, unknown>) {
    const filters = this.parse(q);
    const listFilter = listFilterOf([tenant.id], filters, req.principal.id);
    // The total is read alongside the page, not after it (it does not depend on the page's position).
    const total = this.query.total(listFilter);
    total.catch(() => undefined);
    let page = await this.query.list(listFilter);
    if (filters.direction === 'newer' && !page.hasMore) {
      // Back at the top: show a full first page rather than the few rows newer than the cursor.
      filters.cursor = undefined;
      filters.direction = 'older';
      filters.pos = undefined;
      listFilter.cursor = undefined;
      listFilter.direction = 'older';
      page = await this.query.list(listFilter);
    }
    return { filters, listFilter, page, total };
  }

  private async listing(
    req: AuthedRequest,
    tenant: TenantContext,
    q: Record<string, unknown>,
  ): Promise<Listing> {
    try {
      return await this.page(req, tenant, q);
    } catch (e) {
      if (e instanceof FormError) return { errors: e.fields, typed: typedValuesOf(q) };
      throw e;
    }
  }

  /** The list page again for a form on it that was refused (bulk actions, saving a view): the list it came from. */
  async formLocals(req: AuthedRequest) {
    const tenant = req.tenant!;
    const q = Object.fromEntries(new URLSearchParams(backQuery(req.body).slice(1)));
    return this.listLocals(req, tenant, await this.listing(req, tenant, q));
  }

  private async listLocals(req: AuthedRequest, tenant: TenantContext, listing: Listing) {
    const base = `/admin/t/${tenant.slug}/operations`;
    const filters = listing.filters;
    const [days, views, table] = await Promise.all([
      this.query.perDay(tenant.id, CHART_DAYS),
      this.views.forUser(req.principal.id),
      filters ? this.listModel(req, tenant, filters, listing.page, listing.total) : null,
    ]);
    const kept = filters ? keptFilters(filters) : {};
    const current = filters ? viewQuery(filters) : null;
    return {
      // The tab says the filter was refused; the page itself keeps the form and the message beside it.
      title: listing.errors ? 'That request could not be understood' : 'Operations',
      nav: 'operations',
      ...(table ?? { runs: [], filterInvalid: true }),
      ...chartModel(days, tenant.slug),
      ...filterFormModel(
        filters ? formValuesOf(filters) : listing.typed,
        this.registry.all().map((t) => ({ type: t.type, label: t.label })),
        true,
      ),
      filterErrors: listing.errors ?? null,
      filterErrorList: listing.errors ? Object.values(listing.errors) : [],
      startMenu: this.registry.startable().map((t) => ({
        id: `start-${t.type.replace('.', '-')}`,
        label: t.start!.label,
        action: `${base}/start/${t.type}`,
      })),
      startControl: controlFor(req, 'start', 'Run', 'runs'),
      presets: [
        {
          label: 'All time',
          href: `?${new URLSearchParams(kept).toString()}`,
          current: Boolean(filters) && !filters!.preset && !filters!.from && !filters!.to,
        },
        ...Object.keys(PRESETS).map((p) => ({
          label: `Last ${p}`,
          href: `?${new URLSearchParams({ ...kept, preset: p }).toString()}`,
          current: filters?.preset === p,
        })),
      ],
      clearHref: base,
      listAction: base,
      back: filters ? filterQuery(filters) : '',
      exportHref: filters ? `${base}/export.csv${filterQuery(filters)}` : null,
      savedViews: views.map((v) => ({
        id: v.id,
        name: v.name,
        href: `${base}${v.query ? `?${v.query}` : ''}`,
        deleteAction: `${base}/views/${v.id}/delete`,
        current: v.query === current,
      })),
      allTenantsHref:
        req.principal.memberships.length > 1
          ? `/admin/operations${filters ? filterQuery(filters) : ''}`
          : null,
    };
  }

  private async listModel(
    req: AuthedRequest,
    tenant: TenantContext,
    filters: RunFilters,
    page: RunPage,
    totalRead: Promise<RunTotal>,
  ) {
    const [names, total] = await Promise.all([this.auth.namesOf(page.rows.map((r) => r.userId)), totalRead]);
    const now = Date.now();
    const base = `/admin/t/${tenant.slug}/operations`;
    const pager = pagerModel(base, filters, page);
    const can = (a: 'cancel' | 'retry') => !tenant.archived && req.ability.can(a, inTenant('Run', tenant.id));
    const bulk = can('cancel') || can('retry') ? { cancel: can('cancel'), retry: can('retry') } : null;
    const opts = { bulk: Boolean(bulk), showTenant: false };
    const timeZone = req.principal.timezone;
    const runs = await Promise.all(
      page.rows.map(async (r) => {
        // An ended run's row, kept from an earlier view of the same kept page, for the same viewer.
        const variant = `${tenant.slug}|${timeZone ?? ''}|${opts.bulk}|${nameOf(names, r.userId) ?? ''}`;
        const kept = this.keptRows.get(r);
        if (kept?.variant === variant)
          return {
            active: false,
            html: kept.before + escapeHtml(relativeTime(r.createdAt, now)) + kept.after,
          };
        const summary = Object.assign(await this.summary(r, tenant, names, now), rowExtras(r));
        const row = Object.assign(summary, rowCells(summary, timeZone));
        const parts = !row.active && Object.isFrozen(r) ? keptRow(row, opts) : null;
        if (parts) this.keptRows.set(r, { variant, before: parts[0], after: parts[1] });
        return { active: row.active, html: rowHtml(row, opts) };
      }),
    );
    return {
      runs,
      rowsHtml: runs.map((r) => r.html).join(''),
      ...pager,
      total,
      range: rangeText(filters.pos, runs.length, total, pager.isFirstPage),
      sort: sortHeaders(base, filters),
      bulk,
      bulkBase: base,
      back: filterQuery(filters),
      // Only the first page follows new and active runs live; deeper pages stay put.
      liveRowsUrl:
        pager.isFirstPage && runs.some((r) => r.active) ? `${base}/rows${filterQuery(filters)}` : null,
      clearHref: base,
      filtered: Boolean(
        filters.type ||
        filters.bucket ||
        filters.from ||
        filters.to ||
        filters.reason ||
        filters.initiator ||
        filters.search,
      ),
    };
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
