import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Can } from '../auth/decorators';
import { AppError } from '../common/app-error';
import { flash, flashRunStart, redirectSeeOther } from '../common/flash';
import { IdPipe } from '../common/id.pipe';
import { idParam, pageParam, pager, textParam } from '../common/query-params';
import type { AuthedRequest } from '../common/principal';
import { controlFor } from '../common/start-control';
import { DemoPolicySource, FAULT_OPERATIONS, FaultOperation } from './demo-policy-source';
import { InventoryService, policyTypeLabel, policyTypeOptions, policyTypeParam } from './inventory.service';
import type { ProviderFault } from './policy-source';

const PAGE = 50;
const FAULTS: ProviderFault[] = [
  'provider_throttled',
  'permission_denied',
  'not_found',
  'provider_unavailable',
];

@Controller('admin/t/:tenant')
export class InventoryController {
  constructor(
    private readonly inventory: InventoryService,
    private readonly demo: DemoPolicySource,
  ) {}

  @Get('policies')
  @Can('read', 'Policy')
  async policies(@Req() req: AuthedRequest, @Res() res: Response, @Query() q: Record<string, unknown>) {
    const tenant = req.tenant!;
    const search = textParam(q.q, 'q', 100);
    const type = policyTypeParam(q.type, 100);
    const syncRunId = idParam(q.sync, 'sync', 'an inventory sync run id');
    const page = pageParam(q.page);
    const { rows, total } = await this.inventory.listPolicies(tenant.id, {
      search,
      type,
      syncRunId,
      offset: (page - 1) * PAGE,
      limit: PAGE,
    });
    const syncs = await this.inventory.successfulSyncs(tenant.id, 1);
    const base = new URLSearchParams();
    if (search) base.set('q', search);
    if (type) base.set('type', type);
    if (syncRunId) base.set('sync', String(syncRunId));
    const pageHref = (p: number) =>
      `?${new URLSearchParams({ ...Object.fromEntries(base), page: String(p) }).toString()}`;
    const canConfigure = controlFor(req, 'update', 'Tenant', 'the demo source').allowed;
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
      demo: canConfigure
        ? { state: await this.demo.state(tenant.id), faults: FAULTS, operations: FAULT_OPERATIONS }
        : null,
    });
  }

  @Get('policies/:id')
  @Can('read', 'Policy')
  async policy(@Req() req: AuthedRequest, @Res() res: Response, @Param('id', IdPipe) id: number) {
    const p = await this.inventory.policy(req.tenant!.id, id);
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
  async sync(@Req() req: AuthedRequest, @Res() res: Response) {
    const tenant = req.tenant!;
    const start = await this.inventory.startSync(tenant.id, req.principal.id);
    const { run } = start;
    flashRunStart(req, tenant.slug, start, {
      queued: `Inventory sync queued as run #${run.id}.`,
      reused: `An inventory sync is already ${run.status === 'pending' ? 'queued' : 'running'} (run #${run.id}).`,
    });
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/policies`);
  }

  /** Demo only: make the synthetic provider fail, to see how runs report provider faults. */
  @Post('inventory/demo-fault')
  @Can('update', 'Tenant')
  async demoFault(@Req() req: AuthedRequest, @Res() res: Response, @Body() body: Record<string, unknown>) {
    const tenant = req.tenant!;
    const fault = typeof body.fault === 'string' && body.fault ? body.fault : null;
    if (fault && !FAULTS.includes(fault as ProviderFault))
      throw AppError.badRequest(`Unknown fault "${fault.slice(0, 40)}".`);
    const raw =
      body.operations === undefined ? [...FAULT_OPERATIONS] : ([] as unknown[]).concat(body.operations);
    const operations = raw.filter((o): o is FaultOperation => FAULT_OPERATIONS.includes(o as FaultOperation));
    await this.demo.setFault(
      tenant.id,
      fault as ProviderFault | null,
      operations.length ? operations : [...FAULT_OPERATIONS],
    );
    flash(
      req,
      'info',
      fault
        ? `The demo source now answers with ${fault} (${operations.join(', ') || 'all calls'}).`
        : 'The demo source is healthy again.',
    );
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/policies`);
  }
}
