import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Can, controlFor, Ids, CurrentTenant, type AuthedRequest, type TenantContext } from '../auth';
import { AppError } from '../common/app-error';
import { IdPipe } from '../common/id.pipe';
import { pageParam, pager, textParam } from '../common/query-params';
import { PoliciesService, policyTypeLabel, policyTypeOptions, policyTypeParam } from '../policies';
import { answerStart } from '../runs';
import { flash, redirectSeeOther } from '../web';
import { BackupSetsService, MAX_SELECTION } from './backup-sets.service';

const ITEMS_PAGE = 50;
const PICKER_PAGE = 100;

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

  @Get()
  @Can('read', 'BackupSet')
  async list(@Req() req: AuthedRequest, @Res() res: Response, @CurrentTenant() tenant: TenantContext) {
    res.render('backup-sets/list', {
      title: 'Backup sets',
      nav: 'backup-sets',
      sets: await this.sets.list(tenant.id),
      create: controlFor(req, 'create', 'BackupSet', 'backup sets'),
    });
  }

  @Post()
  @Can('create', 'BackupSet')
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
  async detail(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
    @Query() q: Record<string, unknown>,
  ) {
    const set = await this.sets.get(tenant.id, id);
    const search = textParam(q.q, 'q', 100);
    const page = pageParam(q.page);
    const pickSearch = textParam(q.pick, 'pick', 100);
    const pickType = policyTypeParam(q.type, 64);
    const add = controlFor(req, 'start', 'Run', 'backup sets');
    const [items, runs, picker] = await Promise.all([
      this.sets.items(tenant.id, id, search, (page - 1) * ITEMS_PAGE, ITEMS_PAGE),
      this.sets.runsOf(tenant.id, id),
      add.allowed
        ? this.policies.list(tenant.id, {
            search: pickSearch,
            type: pickType,
            offset: 0,
            limit: PICKER_PAGE,
          })
        : null,
    ]);
    const inSet = picker ? await this.sets.existingKeys(id, picker.rows) : new Set<string>();
    const href = (p: number) =>
      `?${new URLSearchParams({ ...(search ? { q: search } : {}), page: String(p) }).toString()}`;
    res.render('backup-sets/detail', {
      title: set.name,
      nav: 'backup-sets',
      set,
      items: items.rows.map((i) => ({ ...i, typeLabel: policyTypeLabel(i.policyType) })),
      itemTotal: items.total,
      search,
      ...pager(page, items.total, ITEMS_PAGE, href),
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
        })),
        total: picker.total,
        shown: picker.rows.length,
        more: picker.total > picker.rows.length,
        search: pickSearch,
        types: policyTypeOptions(pickType),
        type: pickType,
        maxSelection: MAX_SELECTION,
      },
    });
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
  async addPolicies(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
    @Body() body: Record<string, unknown>,
  ) {
    let ids = policyIds(body.policy_ids);
    if (body.all_matching === '1') {
      const all = await this.policies.ids(tenant.id, {
        search: textParam(body.pick, 'pick', 100),
        type: textParam(body.type, 'type', 64),
        limit: MAX_SELECTION + 1,
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
