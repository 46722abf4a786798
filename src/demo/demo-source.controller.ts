import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Can, controlFor, CurrentTenant, type AuthedRequest, type TenantContext } from '../auth';
import { AppError } from '../common/app-error';
import type { ProviderFault } from '../policies';
import { flash, redirectSeeOther } from '../web';
import { DemoPolicySource } from './demo-policy-source';
import { FAULT_OPERATIONS, FaultOperation } from './demo-state.repository';

const FAULTS: ProviderFault[] = [
  'provider_throttled',
  'permission_denied',
  'not_found',
  'provider_unavailable',
];

/** Demo only: the synthetic source's state, and switches to make it fail, per tenant. */
@Controller('admin/t/:tenant/demo-source')
export class DemoSourceController {
  constructor(private readonly demo: DemoPolicySource) {}

  @Get()
  @Can('read', 'Policy')
  async page(@Req() req: AuthedRequest, @Res() res: Response, @CurrentTenant() tenant: TenantContext) {
    res.render('demo/source', {
      title: 'Demo source',
      nav: 'policies',
      state: await this.demo.state(tenant.id),
      faults: FAULTS,
      operations: FAULT_OPERATIONS,
      manage: controlFor(req, 'update', 'Tenant', 'the demo source'),
    });
  }

  @Post('fault')
  @Can('update', 'Tenant')
  async fault(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Body() body: Record<string, unknown>,
  ) {
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
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/demo-source`);
  }
}
