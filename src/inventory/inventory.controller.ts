import { Controller, Get, Logger, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Can, controlFor, Ids, CurrentTenant, type AuthedRequest, type TenantContext } from '../auth';
import { AppError } from '../common/app-error';
import { IdPipe } from '../common/id.pipe';
import { idParam, pager } from '../common/query-params';
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
  type SortSpec,
} from '../common/table-params';
import {
  PoliciesService,
  policyTypeLabel,
  policyTypeOptions,
  policyTypeParam,
  type PolicyQuery,
  type PolicySort,
  type PolicySortKey,
} from '../policies';
import { answerStart } from '../runs';
import { InventoryService } from './inventory.service';

const logger = new Logger('InventoryController');

/** Name, Type and Last seen sort; by name, A to Z, unless the headers say otherwise. */
const POLICY_SORT: SortSpec<PolicySortKey> = {
  labels: { name: 'Name', type: 'Type', seen: 'Last seen' },
  first: { name: 'asc', type: 'asc', seen: 'desc' },
  default: { by: 'name', dir: 'asc' },
};
const FORM_KEYS = ['q', 'type', 'sync', 'limit', 'sort', 'order'];

interface PolicyListParams {
  query: PolicyQuery & { sort: PolicySort };
  sort: PolicySort;
  search?: string;
  limit: number;
  page: number;
}

/** The list's parameters, or every field's error (the page marks each input that needs fixing). */
function parsePolicyList(q: Record<string, unknown>): {
  filters: PolicyListParams;
  errors: Record<string, string> | null;
} {
  const reader = fieldReader();
  const table = tableParams(q, POLICY_SORT, reader);
  const type = reader.read(() => policyTypeParam(q.type, 100), undefined, 'type');
  const syncRunId = reader.read(() => idParam(q.sync, 'sync', 'an inventory sync run id'), undefined, 'sync');
  return {
    filters: { ...table, query: { search: table.search, type, syncRunId, sort: table.sort } },
    errors: reader.failed ? reader.errors : null,
  };
}

function filterParams(f: PolicyListParams): Record<string, string | undefined> {
  return { type: f.query.type, sync: f.query.syncRunId ? String(f.query.syncRunId) : undefined };
}

function formOf(f: PolicyListParams): Record<string, string> {
  return {
    q: f.search ?? '',
    type: f.query.type ?? '',
    sync: f.query.syncRunId ? String(f.query.syncRunId) : '',
    limit: String(f.limit),
    sort: f.sort.by,
    order: f.sort.dir,
  };
}

@Controller('admin/t/:tenant')
export class InventoryController {
  constructor(
    private readonly inventory: InventoryService,
    private readonly policies: PoliciesService,
  ) {}

  /**
   * The inventory: search, type, sortable columns, 25/50/100 rows a page and "1–25 of 412". A
   * parameter it cannot use shows the page again (status 400) with the message beside the filter
   * form and what was typed kept.
   */
  @Get('policies')
  @Can('read', 'Policy')
  async list(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Query() q: Record<string, unknown>,
  ) {
    const base = `/admin/t/${tenant.slug}/policies`;
    const { filters, errors } = parsePolicyList(q);
    const [listing, syncs, sourceName, sourceSettingsHref] = await Promise.all([
      errors
        ? null
        : this.policies.list(tenant.id, {
            ...filters.query,
            offset: (filters.page - 1) * filters.limit,
            limit: filters.limit,
          }),
      this.policies.successfulSyncs(tenant.id, 1),
      this.policies.sourceNameOf(tenant.id),
      this.policies.sourceSettingsHref(tenant),
    ]);
    const form = errors ? typedValues(q, FORM_KEYS) : formOf(filters);
    const link = (extra: Record<string, string | undefined> = {}, sort = filters.sort) =>
      tableQuery({ ...filters, sort }, POLICY_SORT, filterParams(filters), extra);
    res.status(errors ? 400 : 200).render('inventory/policies', {
      title: errors ? 'That request could not be understood' : 'Policies',
      nav: 'policies',
      policies: listing?.rows.map((r) => ({ ...r, typeLabel: policyTypeLabel(r.policyType) })) ?? [],
      total: listing?.total ?? 0,
      range: listing ? rangeText((filters.page - 1) * filters.limit, listing.rows.length, listing.total) : '',
      form,
      syncRunId: filters.query.syncRunId,
      types: policyTypeOptions(form.type || undefined),
      pageSizes: pageSizeOptions(form.limit || String(DEFAULT_PAGE_SIZE)),
      sortedBy:
        filters.sort.by === POLICY_SORT.default.by && filters.sort.dir === POLICY_SORT.default.dir
          ? null
          : filters.sort,
      sort: sortHeaders(POLICY_SORT, filters.sort, (sort) => base + link({}, sort)),
      filterErrors: errors,
      filterErrorList: errors ? Object.values(errors) : [],
      filtered: Boolean(form.q || form.type || form.sync),
      clearHref: base,
      listAction: base,
      exportHref: errors ? null : `${base}/export.csv${link()}`,
      lastSync: syncs[0],
      sync: controlFor(req, 'start', 'Run', 'the inventory'),
      ...(listing ? pager(filters.page, listing.total, filters.limit, (p) => link({ page: String(p) })) : {}),
      sourceName,
      sourceSettingsHref,
    });
  }

  /** The filtered, sorted list as CSV: every matching policy, streamed a batch at a time. */
  @Get('policies/export.csv')
  @Can('read', 'Policy')
  async exportCsv(
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Query() q: Record<string, unknown>,
  ) {
    const { filters, errors } = parsePolicyList(q);
    if (errors) throw AppError.invalid(errors);
    const day = new Date().toISOString().slice(0, 10);
    const iso = (d: Date | null) => (d ? d.toISOString() : '');
    const rows = this.policies.batches(tenant.id, filters.query);
    await streamCsv(
      res,
      `policies-${tenant.slug}-${day}.csv`,
      ['name', 'type', 'type_label', 'platform', 'external_id', 'last_seen_at', 'removed_at', 'url'],
      mapBatches(rows, (p) => [
        p.displayName,
        p.policyType,
        policyTypeLabel(p.policyType),
        p.platform,
        p.externalId,
        iso(p.lastSeenAt),
        iso(p.removedAt),
        p.id ? `/admin/t/${tenant.slug}/policies/${p.id}` : '',
      ]),
      (e) => logger.error({ err: e }, 'Policies CSV export failed midway'),
    );
  }

  @Get('policies/:id')
  @Can('read', 'Policy')
  @Ids({ id: 'policy' })
  async policy(
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
  ) {
    const p = await this.policies.policy(tenant.id, id);
    if (!p) throw AppError.notFound('Policy');
    res.render('inventory/policy', {
      title: p.displayName,
      nav: 'policies',
      policy: { ...p, typeLabel: policyTypeLabel(p.policyType) },
      payloadJson: JSON.stringify(p.payload, null, 2),
    });
  }

  @Post('inventory/sync')
  @Can('start', 'Run')
  async sync(@Req() req: AuthedRequest, @Res() res: Response, @CurrentTenant() tenant: TenantContext) {
    const start = await this.inventory.startSync(tenant.id, req.principal.id);
    const { run } = start;
    await answerStart(req, res, start, {
      tenantSlug: tenant.slug,
      queued: `Inventory sync queued as run #${run.id}.`,
      reused: `An inventory sync is already ${run.status === 'pending' ? 'queued' : 'running'} (run #${run.id}).`,
      to: `/admin/t/${tenant.slug}/policies`,
    });
  }
}
