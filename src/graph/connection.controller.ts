import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthService, type AuthedRequest, Can, controlFor, CurrentTenant, type TenantContext } from '../auth';
import { AppError } from '../common/app-error';
import { isActive, REASON_LABELS, RunStarter, RunsService, runHref } from '../runs';
import { POLICY_SOURCES, TenantsService } from '../tenants';
import { flash, FormPage, redirectSeeOther } from '../web';
import { CONNECTION_CHECK } from './connection-check.handler';
import { EXPIRY_WARNING_DAYS, GraphConnectionsService } from './graph-connections.service';
import { GRAPH_POLICY_TYPES } from './graph-policy-types';

/**
 * Administration → Microsoft connection: the tenant's app registration (client id and a secret or a
 * certificate, write-only), where its policies come from, and "Test connection" with the last
 * result per policy type. Owners and platform admins.
 */
@ApiExcludeController()
@Controller('admin/t/:tenant/connection')
export class ConnectionController {
  constructor(
    private readonly connections: GraphConnectionsService,
    private readonly tenants: TenantsService,
    private readonly runs: RunsService,
    private readonly starter: RunStarter,
    private readonly auth: AuthService,
  ) {}

  @Get()
  @Can('read', 'Connection')
  async page(@Req() req: AuthedRequest, @Res() res: Response) {
    res.render('graph/connection', await this.pageLocals(req));
  }

  async pageLocals(req: AuthedRequest) {
    const t = req.tenant!;
    const [tenant, connection, [check]] = await Promise.all([
      this.tenants.get(t.slug),
      this.connections.view(t.id),
      this.runs.latestOfType(t.id, CONNECTION_CHECK, { limit: 1 }),
    ]);
    const names = await this.auth.namesOf([connection?.updatedBy ?? null]);
    const failures = new Map((check?.failures ?? []).map((f) => [f.item_id, f]));
    const checking = check ? isActive(check.status) : false;
    return {
      title: `Microsoft connection · ${t.name}`,
      nav: 'connection',
      record: tenant,
      connection: connection && {
        ...connection,
        updatedByName:
          connection.updatedBy === null ? 'the system' : (names.get(connection.updatedBy) ?? 'a former user'),
        isSecret: connection.credentialType === 'secret',
      },
      warningDays: EXPIRY_WARNING_DAYS,
      sources: POLICY_SOURCES.map((s) => ({ value: s, selected: s === tenant.policySource })),
      credentialType: connection?.credentialType ?? 'secret',
      check: check && {
        href: runHref(t.slug, check.id),
        id: check.id,
        at: check.finishedAt ?? check.createdAt,
        checking,
        canOpen: t.role !== null,
        types: GRAPH_POLICY_TYPES.map((info) => {
          const f = failures.get(`type:${info.key}`);
          return {
            label: info.label,
            permission: info.permission,
            state: f ? 'failed' : checking ? 'checking' : check.processedItems > 0 ? 'ok' : 'unknown',
            reason: f ? REASON_LABELS[f.reason_code] : null,
            message: f?.message ?? null,
          };
        }),
      },
      manage: controlFor(req, 'update', 'Connection', 'connection'),
    };
  }

  @Post()
  @Can('update', 'Connection')
  @FormPage('graph/connection', 'pageLocals')
  async save(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Body() body: Record<string, unknown>,
  ) {
    await this.connections.save(tenant.id, body, { id: req.principal.id });
    flash(req, 'success', 'Connection saved. Test it to see what it can read.');
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/connection`);
  }

  @Post('test')
  @Can('update', 'Connection')
  async test(@Req() req: AuthedRequest, @Res() res: Response, @CurrentTenant() tenant: TenantContext) {
    if (!(await this.connections.view(tenant.id)))
      throw AppError.badRequest(
        'Save a connection (client id and a secret or certificate) before testing it.',
      );
    await this.starter.fromPage(req, res, {
      type: CONNECTION_CHECK,
      idempotencyKey: CONNECTION_CHECK,
      totalItems: GRAPH_POLICY_TYPES.length,
      to: `/admin/t/${tenant.slug}/connection`,
    });
  }
}
