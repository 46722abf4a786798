import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Can, controlFor, Ids, CurrentTenant, type AuthedRequest, type TenantContext } from '../auth';
import { AppError } from '../common/app-error';
import { IdPipe } from '../common/id.pipe';
import { idParam, pageParam, pager, textParam } from '../common/query-params';
import { PoliciesService, policyTypeLabel, policyTypeOptions, policyTypeParam } from '../policies';
import { answerStart } from '../runs';
import { InventoryService } from './inventory.service';

const PAGE = 50;

@Controller('admin/t/:tenant')
export class InventoryController {
  constructor(
    private readonly inventory: InventoryService,
    private readonly policies: PoliciesService,
  ) {}

  @Get('policies')
  @Can('read', 'Policy')
  async list(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Query() q: Record<string, unknown>,
  ) {
    const search = textParam(q.q, 'q', 100);
    const type = policyTypeParam(q.type, 100);
    const syncRunId = idParam(q.sync, 'sync', 'an inventory sync run id');
    const page = pageParam(q.page);
    const [{ rows, total }, syncs] = await Promise.all([
      this.policies.list(tenant.id, { search, type, syncRunId, offset: (page - 1) * PAGE, limit: PAGE }),
      this.policies.successfulSyncs(tenant.id, 1),
    ]);
    const base = new URLSearchParams();
    if (search) base.set('q', search);
    if (type) base.set('type', type);
    if (syncRunId) base.set('sync', String(syncRunId));
    const pageHref = (p: number) =>
      `?${new URLSearchParams({ ...Object.fromEntries(base), page: String(p) }).toString()}`;
    res.render('inventory/policies', {
      title: 'Policies',
      nav: 'policies',
      policies: rows.map((r) => ({ ...r, typeLabel: policyTypeLabel(r.policyType) })),
      total,
      search,
      syncRunId,
      types: policyTypeOptions(type),
      lastSync: syncs[0],
      sync: controlFor(req, 'start', 'Run', 'the inventory'),
      ...pager(page, total, PAGE, pageHref),
      sourceName: await this.policies.sourceNameOf(tenant.id),
      sourceSettingsHref: await this.policies.sourceSettingsHref(tenant),
    });
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
