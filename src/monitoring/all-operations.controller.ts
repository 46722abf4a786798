import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthService, inTenant, SignedIn, type AuthedRequest } from '../auth';
import { FormError } from '../common/app-error';
import { runHref, RunsQueryService, RunTypeRegistry } from '../runs';
import { filterQuery, PAGE_SIZE, parseRunFilters, type RunFilters } from './run-filters';
import {
  filterFormModel,
  formValuesOf,
  listFilterOf,
  pagerModel,
  rangeText,
  rowCells,
  rowExtras,
  rowsHtml,
  sortHeaders,
  typedValuesOf,
} from './run-table';
import { runSummary } from './run-view';
import { writeRunsCsv } from './runs-csv';

const BASE = '/admin/operations';

/**
 * Operations across every tenant the user belongs to, in one list: each tenant's runs walk their own
 * index range (RunListFilter.tenantIds) and the pages are merged, so it pages like one tenant's list.
 * Actions stay on each tenant's own page, where its role decides them.
 */
@ApiExcludeController()
@Controller('admin/operations')
export class AllOperationsController {
  constructor(
    private readonly query: RunsQueryService,
    private readonly registry: RunTypeRegistry,
    private readonly auth: AuthService,
  ) {}

  @Get()
  @SignedIn()
  async list(@Req() req: AuthedRequest, @Res() res: Response, @Query() q: Record<string, unknown>) {
    const tenants = this.tenantsOf(req);
    let filters: RunFilters | null = null;
    let errors: Record<string, string> | null = null;
    try {
      filters = this.parse(q);
    } catch (e) {
      if (!(e instanceof FormError)) throw e;
      errors = e.fields;
    }
    const table = filters ? await this.table(req, tenants, filters) : { runs: [], filterInvalid: true };
    res.status(errors ? 400 : 200).render('runs/all', {
      title: errors ? 'That request could not be understood' : 'Operations in all tenants',
      nav: 'operations',
      ...table,
      ...filterFormModel(
        filters ? formValuesOf(filters) : typedValuesOf(q),
        this.registry.all().map((t) => ({ type: t.type, label: t.label })),
        true,
      ),
      filterErrors: errors,
      filterErrorList: errors ? Object.values(errors) : [],
      tenantCount: tenants.length,
      tenantNames: tenants.map((t) => t.name).join(', '),
      listAction: BASE,
      clearHref: BASE,
      exportHref: filters ? `${BASE}/export.csv${filterQuery(filters)}` : null,
    });
  }

  /** The All tenants list as CSV, with a tenant column, streamed a keyset batch at a time. */
  @Get('export.csv')
  @SignedIn()
  async exportCsv(@Req() req: AuthedRequest, @Res() res: Response, @Query() q: Record<string, unknown>) {
    const tenants = this.tenantsOf(req);
    const filters = this.parse(q);
    const bySlug = new Map(tenants.map((t) => [t.tenantId, t]));
    const listFilter = listFilterOf(
      tenants.map((t) => t.tenantId),
      filters,
      req.principal.id,
    );
    const day = new Date().toISOString().slice(0, 10);
    await writeRunsCsv(res, `operations-all-tenants-${day}.csv`, this.query.batches(listFilter), {
      label: (type) => this.registry.labelOf(type),
      names: (ids) => this.auth.namesOf(ids),
      href: (run) => runHref(bySlug.get(run.tenantId)?.slug ?? '', run.id),
      tenant: (run) => bySlug.get(run.tenantId)?.slug ?? '',
    });
  }

  private parse(q: Record<string, unknown>): RunFilters {
    return parseRunFilters(q, this.registry.typeNames(), { defaultLimit: PAGE_SIZE, maxLimit: 100 });
  }

  /** The tenants whose runs the user may read (every membership does, archived ones included). */
  private tenantsOf(req: AuthedRequest) {
    return req.principal.memberships.filter((m) => req.ability.can('read', inTenant('Run', m.tenantId)));
  }

  private async table(
    req: AuthedRequest,
    tenants: ReturnType<AllOperationsController['tenantsOf']>,
    f: RunFilters,
  ) {
    const ids = tenants.map((t) => t.tenantId);
    const byId = new Map(tenants.map((t) => [t.tenantId, t]));
    const listFilter = listFilterOf(ids, f, req.principal.id);
    let page = ids.length ? await this.query.list(listFilter) : { rows: [], hasMore: false };
    if (f.direction === 'newer' && !page.hasMore) {
      f.cursor = undefined;
      f.direction = 'older';
      f.pos = undefined;
      listFilter.cursor = undefined;
      listFilter.direction = 'older';
      page = await this.query.list(listFilter);
    }
    const [names, total] = await Promise.all([
      this.auth.namesOf(page.rows.map((r) => r.userId)),
      ids.length ? this.query.total(listFilter) : { n: 0, exact: true },
    ]);
    const runs = page.rows.map((r) => {
      const t = byId.get(r.tenantId)!;
      const name = r.userId === null ? null : (names.get(r.userId) ?? null);
      const row = {
        ...runSummary(r, t.slug, this.registry.labelOf(r.runType()), name),
        ...rowExtras(r),
        tenantSlug: t.slug,
        tenantName: t.name,
      };
      return { ...row, ...rowCells(row, req.principal.timezone) };
    });
    const pager = pagerModel(BASE, f, page);
    return {
      runs,
      rowsHtml: rowsHtml(runs, { bulk: false, showTenant: true }),
      ...pager,
      total,
      range: rangeText(f.pos, runs.length, total, pager.isFirstPage),
      sort: sortHeaders(BASE, f),
      showTenant: true,
      bulk: null,
      back: filterQuery(f),
      liveRowsUrl: null,
    };
  }
}
