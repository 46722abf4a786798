import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { type AuthedRequest, Can, Ids } from '../auth';
import { AppError } from '../common/app-error';
import { TenantsService, type Tenant } from '../tenants';
import { flash, FormPage, redirectSeeOther } from '../web';

function input(body: Record<string, unknown>) {
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
  return {
    slug: str('slug'),
    name: str('name'),
    microsoftTenantId: str('microsoft_tenant_id') || null,
    notes: str('notes') || null,
  };
}

/** Platform → Tenants: the platform admins' list of every tenant, with create, edit, archive, restore. */
@ApiExcludeController()
@Controller('admin/tenants')
export class TenantsAdminController {
  constructor(private readonly tenants: TenantsService) {}

  @Get()
  @Can('read', 'Tenant')
  async list(@Req() req: AuthedRequest, @Res() res: Response) {
    res.render('admin/tenants', await this.listLocals(req));
  }

  async listLocals(req: AuthedRequest) {
    const [all, counts] = await Promise.all([this.tenants.all(), this.tenants.memberCounts()]);
    const member = new Set(req.principal.memberships.map((m) => m.tenantId));
    const row = (t: Tenant) => ({ ...t, members: counts.get(t.id) ?? 0, isMember: member.has(t.id) });
    return {
      title: 'Tenants',
      nav: 'tenants',
      active: all.filter((t) => !t.archivedAt).map(row),
      archived: all.filter((t) => t.archivedAt).map(row),
    };
  }

  @Post()
  @Can('create', 'Tenant')
  @FormPage('admin/tenants', 'listLocals')
  async create(@Req() req: AuthedRequest, @Res() res: Response, @Body() body: Record<string, unknown>) {
    const tenant = await this.tenants.create(input(body), { id: req.principal.id });
    flash(req, 'success', `${tenant.name} created, with you as its owner. Invite its members here.`);
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/members`);
  }

  @Get(':slug/edit')
  @Can('read', 'Tenant')
  @Ids({ slug: 'tenant_slug' })
  async edit(@Req() req: AuthedRequest, @Res() res: Response) {
    res.render('admin/tenant-edit', await this.editLocals(req));
  }

  async editLocals(req: AuthedRequest) {
    const tenant = await this.tenants.get(String(req.params.slug));
    return {
      title: `Edit ${tenant.name}`,
      nav: 'tenants',
      edited: tenant,
      isMember: req.principal.memberships.some((m) => m.tenantId === tenant.id),
    };
  }

  @Post(':slug/edit')
  @Can('update', 'Tenant')
  @Ids({ slug: 'tenant_slug' })
  @FormPage('admin/tenant-edit', 'editLocals')
  async update(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @Param('slug') slug: string,
    @Body() body: Record<string, unknown>,
  ) {
    const tenant = await this.tenants.get(slug);
    if (tenant.archivedAt) throw AppError.forbidden(`${tenant.name} is archived: restore it to change it.`);
    const { name, microsoftTenantId, notes } = input(body);
    await this.tenants.update(tenant.id, { name, microsoftTenantId, notes }, { id: req.principal.id });
    flash(req, 'success', 'Tenant details saved.');
    await redirectSeeOther(req, res, `/admin/tenants/${slug}/edit`);
  }

  @Post(':slug/archive')
  @Can('update', 'Tenant')
  @Ids({ slug: 'tenant_slug' }, { consumes: true })
  async archive(@Req() req: AuthedRequest, @Res() res: Response, @Param('slug') slug: string) {
    await this.setArchived(req, res, slug, true);
  }

  @Post(':slug/restore')
  @Can('update', 'Tenant')
  @Ids({ slug: 'tenant_slug' }, { consumes: true })
  async restore(@Req() req: AuthedRequest, @Res() res: Response, @Param('slug') slug: string) {
    await this.setArchived(req, res, slug, false);
  }

  private async setArchived(req: AuthedRequest, res: Response, slug: string, archived: boolean) {
    const tenant = await this.tenants.get(slug);
    const changed = await this.tenants.setArchived(tenant.id, archived, { id: req.principal.id });
    flash(
      req,
      changed ? 'success' : 'info',
      changed
        ? archived
          ? `${tenant.name} archived: its history stays, and nobody can start or change anything in it.`
          : `${tenant.name} restored.`
        : `${tenant.name} was ${archived ? 'archived' : 'active'} already.`,
    );
    await redirectSeeOther(req, res, '/admin/tenants');
  }
}
