import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Can, controlFor, Ids, CurrentTenant, type AuthedRequest, type TenantContext } from '../auth';
import { AppError } from '../common/app-error';
import { IdPipe } from '../common/id.pipe';
import { pageParam, pager, textParam } from '../common/query-params';
import {
  DEFAULT_PAGE_SIZE,
  fieldReader,
  pageSizeOptions,
  rangeText,
  sortHeaders,
  tableParams,
  tableQuery,
  typedValues,
  type SortSpec,
} from '../common/table-params';
import { PoliciesService, policyTypeLabel, policyTypeOptions, policyTypeParam } from '../policies';
import { answerStart } from '../runs';
import { flash, FormPage, redirectSeeOther } from '../web';
import { BackupSetsService, MAX_SELECTION, type BackupSetSortKey } from './backup-sets.service';

/** Name (A to Z, the default), item count and last update sort the list. */
const SET_SORT: SortSpec<BackupSetSortKey> = {
  labels: { name: 'Name', items: 'Items', updated: 'Updated' },
  first: { name: 'asc', items: 'desc', updated: 'desc' },
  default: { by: 'name', dir: 'asc' },
};

const ITEMS_PAGE = 50;
/** The picker pages through the policies: a phone shows a page without scrolling forever. */
const PICKER_PAGE = 50;

/** policy_ids from a form: one value or many; anything but whole ids is refused whole. */
function policyIds(v: unknown): number[] {
  const list = v === undefined ? [] : ([] as unknown[]).concat(v);
  return list.map((x) => {
    if (typeof x !== 'string' || !/^[1-9]\d{0,14}$/.test(x.trim())) {
      throw AppError.badRequest('"policy_ids" must hold policy ids (whole numbers). Nothing was started.');
    }
    return Number(x);
  });
}

@Controller('admin/t/:tenant/backup-sets')
export class BackupSetsController {
  constructor(
    private readonly sets: BackupSetsService,
    private readonly policies: PoliciesService,
  ) {}

  /**
   * The sets: search by name, sortable columns, 25/50/100 rows a page and "1–25 of 40". A parameter
   * it cannot use shows the page again (status 400) with the message beside the filter form and what
   * was typed kept.
   */
  @Get()
  @Can('read', 'BackupSet')
  async list(@Req() req: AuthedRequest, @Res() res: Response) {
    const locals = await this.listLocals(req);
    res.status(locals.filterErrors ? 400 : 200).render('backup-sets/list', locals);
  }

  /** The list page's locals: its GET, and a create refused (a duplicate name) shown on the same form. */
  async listLocals(req: AuthedRequest) {
    const tenant = req.tenant!;
    const q = (req.method === 'GET' ? req.query : {}) as Record<string, unknown>;
    const reader = fieldReader();
    const p = tableParams(q, SET_SORT, reader);
    const errors = reader.failed ? reader.errors : null;
    const offset = (p.page - 1) * p.limit;
    const listing = errors
      ? null
      : await this.sets.list(tenant.id, { search: p.search, sort: p.sort, offset, limit: p.limit });
    const base = `/admin/t/${tenant.slug}/backup-sets`;
    const link = (extra: Record<string, string | undefined> = {}, sort = p.sort) =>
      tableQuery({ ...p, sort }, SET_SORT, {}, extra);
    const form = errors
      ? typedValues(q, ['q', 'limit', 'sort', 'order'])
      : { q: p.search ?? '', limit: String(p.limit), sort: p.sort.by, order: p.sort.dir };
    return {
      title: errors ? 'That request could not be understood' : 'Backup sets',
      nav: 'backup-sets',
      sets: listing?.rows ?? [],
      total: listing?.total ?? 0,
      range: listing ? rangeText(offset, listing.rows.length, listing.total) : '',
      filter: form,
      filterErrors: errors,
      filterErrorList: errors ? Object.values(errors) : [],
      filtered: Boolean(form.q),
      pageSizes: pageSizeOptions(form.limit || String(DEFAULT_PAGE_SIZE)),
      sortedBy: p.sort.by === SET_SORT.default.by && p.sort.dir === SET_SORT.default.dir ? null : p.sort,
      sort: sortHeaders(SET_SORT, p.sort, (sort) => base + link({}, sort)),
      listAction: base,
      clearHref: base,
      ...(listing ? pager(p.page, listing.total, p.limit, (n) => link({ page: String(n) })) : {}),
      create: controlFor(req, 'create', 'BackupSet', 'backup sets'),
    };
  }

  @Post()
  @Can('create', 'BackupSet')
  @FormPage('backup-sets/list', 'listLocals')
  async create(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Body() body: Record<string, unknown>,
  ) {
    const id = await this.sets.create(
      tenant.id,
      req.principal.id,
      textParam(body.name, 'name', 500) ?? '',
      textParam(body.description, 'description', 1000) ?? null,
    );
    flash(req, 'success', 'Backup set created. Add policies to it below.');
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/backup-sets/${id}`);
  }

  @Get(':id')
  @Can('read', 'BackupSet')
  @Ids({ id: 'backup_set' })
  async detail(@Req() req: AuthedRequest, @Res() res: Response, @Param('id', IdPipe) id: number) {
    res.render('backup-sets/detail', await this.detailLocals(req, id));
  }

  /**
   * The set's page: its items, its runs and the policy picker (paged). Also what a refused rename or
   * "Add selected policies" shows again, the picker's search kept from the form.
   */
  async detailLocals(req: AuthedRequest, id = Number(req.params.id)) {
    const tenant = req.tenant!;
    const q = req.query as Record<string, unknown>;
    const form = (req.method === 'POST' ? req.body : {}) as Record<string, unknown>;
    const set = await this.sets.get(tenant.id, id);
    const search = textParam(q.q, 'q', 100);
    const page = pageParam(q.page);
    const pickSearch = textParam(form.pick ?? q.pick, 'pick', 100);
    const pickType = policyTypeParam(form.type ?? q.type, 64);
    const pickPage = pageParam(q.pp);
    const add = controlFor(req, 'start', 'Run', 'backup sets');
    const pickFilter = { search: pickSearch, type: pickType };
    const [items, runs, picker, inSetCount] = await Promise.all([
      this.sets.items(tenant.id, id, search, (page - 1) * ITEMS_PAGE, ITEMS_PAGE),
      this.sets.runsOf(tenant.id, id),
      add.allowed
        ? this.policies.list(tenant.id, {
            ...pickFilter,
            offset: (pickPage - 1) * PICKER_PAGE,
            limit: PICKER_PAGE,
          })
        : null,
      add.allowed ? this.sets.inSetCount(tenant.id, id, pickFilter) : 0,
    ]);
    const inSet = picker ? await this.sets.existingKeys(id, picker.rows) : new Set<string>();
    // A refused form shows again with what was ticked still ticked.
    const ticked = new Set(([] as unknown[]).concat(form.policy_ids ?? []).map(String));
    const query = (extra: Record<string, string>) =>
      `?${new URLSearchParams({
        ...(search ? { q: search } : {}),
        ...(pickSearch ? { pick: pickSearch } : {}),
        ...(pickType ? { type: pickType } : {}),
        ...extra,
      }).toString()}`;
    const pickPager =
      picker && pager(pickPage, picker.total, PICKER_PAGE, (p) => `${query({ pp: String(p) })}#add`);
    return {
      title: set.name,
      nav: 'backup-sets',
      set,
      items: items.rows.map((i) => ({ ...i, typeLabel: policyTypeLabel(i.policyType) })),
      itemTotal: items.total,
      search,
      ...pager(
        page,
        items.total,
        ITEMS_PAGE,
        (p) => `?${new URLSearchParams({ ...(search ? { q: search } : {}), page: String(p) }).toString()}`,
      ),
      runs: runs.map((r) => ({
        id: r.id,
        status: r.status,
        bucket: r.statusBucket,
        createdAt: r.createdAt,
        succeeded: r.succeeded,
        failed: r.failed,
        skipped: r.skipped,
      })),
      manage: controlFor(req, 'update', 'BackupSet', 'backup sets'),
      add,
      picker: picker && {
        rows: picker.rows.map((p) => ({
          ...p,
          typeLabel: policyTypeLabel(p.policyType),
          inSet: inSet.has(`${p.policyType}:${p.externalId}`),
          checked: ticked.has(String(p.id)),
        })),
        total: picker.total,
        /** What "select all" would add: the matching policies the set does not hold yet. */
        addable: Math.max(0, picker.total - inSetCount),
        inSetCount,
        first: picker.rows.length ? (pickPage - 1) * PICKER_PAGE + 1 : 0,
        last: (pickPage - 1) * PICKER_PAGE + picker.rows.length,
        ...pickPager,
        search: pickSearch,
        types: policyTypeOptions(pickType),
        type: pickType,
        maxSelection: MAX_SELECTION,
      },
    };
  }

  @Get(':id/items/:itemId')
  @Can('read', 'BackupSet')
  @Ids({ id: 'backup_set', itemId: 'backup_item' })
  async item(
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
    @Param('itemId', IdPipe) itemId: number,
  ) {
    const set = await this.sets.get(tenant.id, id);
    const item = await this.sets.item(tenant.id, id, itemId);
    res.render('backup-sets/item', {
      title: item.displayName,
      nav: 'backup-sets',
      set,
      item: { ...item, typeLabel: policyTypeLabel(item.policyType) },
      payloadJson: JSON.stringify(item.payload, null, 2),
    });
  }

  @Post(':id/add-policies')
  @Can('start', 'Run')
  @Ids({ id: 'backup_set' })
  @FormPage('backup-sets/detail', 'detailLocals')
  async addPolicies(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
    @Body() body: Record<string, unknown>,
  ) {
    let ids = policyIds(body.policy_ids);
    if (body.all_matching === '1') {
      // "All matching" means what can still be added: not what the set holds already, nor what was
      // removed upstream (the policies' filter leaves those out).
      const matching = await this.policies.ids(tenant.id, {
        search: textParam(body.pick, 'pick', 100),
        type: textParam(body.type, 'type', 64),
        limit: MAX_SELECTION + 1,
      });
      const all = await this.sets.notInSet(tenant.id, id, matching);
      if (!all.length && !ids.length && matching.length)
        throw AppError.invalid({
          policy_ids: `All ${matching.length.toLocaleString('en-US')} matching policies are already in this set.`,
        });
      ids = [...ids, ...all];
    }
    const start = await this.sets.startAddPolicies(tenant.id, req.principal.id, id, ids);
    const { run } = start;
    await answerStart(req, res, start, {
      tenantSlug: tenant.slug,
      queued: `Adding ${run.totalItems} polic${run.totalItems === 1 ? 'y' : 'ies'} as run #${run.id}.`,
      reused: `Those policies are already being added (run #${run.id}).`,
      to: `/admin/t/${tenant.slug}/backup-sets/${id}`,
    });
  }

  @Post(':id/rename')
  @Can('update', 'BackupSet')
  @Ids({ id: 'backup_set' }, { consumes: true })
  @FormPage('backup-sets/detail', 'detailLocals')
  async rename(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
    @Body() body: Record<string, unknown>,
  ) {
    await this.sets.rename(
      tenant.id,
      id,
      textParam(body.name, 'name', 500) ?? '',
      textParam(body.description, 'description', 1000) ?? null,
    );
    flash(req, 'success', 'Backup set updated.');
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/backup-sets/${id}`);
  }

  @Post(':id/delete')
  @Can('delete', 'BackupSet')
  @Ids({ id: 'backup_set' }, { consumes: true })
  async delete(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
  ) {
    const set = await this.sets.delete(tenant.id, id);
    flash(req, 'success', `Backup set “${set.name}” deleted.`);
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/backup-sets`);
  }
}
