import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  AccountsService,
  type AuthedRequest,
  Can,
  controlFor,
  CurrentTenant,
  Ids,
  type TenantContext,
} from '../auth';
import { IdPipe } from '../common/id.pipe';
import { ROLES, TenantsService } from '../tenants';
import { flash, FormPage, redirectSeeOther } from '../web';

interface ShownLink {
  url: string;
  email: string;
  mailed: boolean;
  expiresAt: string;
}

const ROLE_HELP: Record<string, string> = {
  owner: 'everything, including members and the Microsoft connection',
  manager: 'runs and backup sets; sees members and the audit log',
  operator: 'starts, cancels and retries runs',
  readonly: 'looks, never starts',
};

/** Administration → Members: who belongs to a tenant, invitations, roles. */
@ApiExcludeController()
@Controller('admin/t/:tenant/members')
export class MembersController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly accounts: AccountsService,
  ) {}

  @Get()
  @Can('read', 'Membership')
  async page(@Req() req: AuthedRequest, @Res() res: Response) {
    const session = req.session as { inviteLink?: ShownLink };
    const created = session.inviteLink;
    delete session.inviteLink;
    res.render('admin/members', { ...(await this.pageLocals(req)), created });
  }

  async pageLocals(req: AuthedRequest) {
    const tenant = req.tenant!;
    const [members, pending] = await Promise.all([
      this.tenants.members(tenant.id),
      this.accounts.pendingInvitations(tenant.id),
    ]);
    const users = new Map(
      (await this.accounts.usersByIds(members.map((m) => m.userId))).map((u) => [u.id, u]),
    );
    const manage = controlFor(req, 'update', 'Membership', 'members');
    return {
      title: `Members · ${tenant.name}`,
      nav: 'members',
      members: members.map((m) => {
        const u = users.get(m.userId);
        return {
          ...m,
          name: u?.name ?? `user #${m.userId}`,
          email: u?.email ?? '',
          lastSignInAt: u?.lastSignInAt ?? null,
          deactivated: Boolean(u?.deactivatedAt),
          isYou: m.userId === req.principal.id,
          roles: ROLES.map((r) => ({ value: r, selected: r === m.role })),
        };
      }),
      pending,
      roles: ROLES.map((r) => ({ value: r, help: ROLE_HELP[r] })),
      manage,
      invite: controlFor(req, 'create', 'Membership', 'members'),
      mailEnabled: this.accounts.mailEnabled,
    };
  }

  @Post('invite')
  @Can('create', 'Membership')
  @FormPage('admin/members', 'pageLocals')
  async invite(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Body() body: Record<string, unknown>,
  ) {
    const link = await this.accounts.invite(tenant.id, body.email, body.role, { id: req.principal.id });
    // Shown once on the next page, then forgotten: only the link's hash is kept.
    (req.session as { inviteLink?: ShownLink }).inviteLink = {
      url: link.url,
      email: String(body.email).trim(),
      mailed: link.mailed,
      expiresAt: link.expiresAt.toISOString(),
    };
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/members`);
  }

  @Post(':userId/role')
  @Can('update', 'Membership')
  @Ids({ userId: 'member' })
  @FormPage('admin/members', 'pageLocals')
  async role(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('userId', IdPipe) userId: number,
    @Body('role') role: unknown,
  ) {
    const user = await this.accounts.get(userId);
    await this.tenants.changeRole(tenant.id, userId, role as never, { id: req.principal.id }, user.email);
    flash(req, 'success', `${user.name} is now ${String(role)} in ${tenant.name}.`);
    await redirectSeeOther(req, res, this.after(req, tenant, userId));
  }

  @Post(':userId/remove')
  @Can('delete', 'Membership')
  @Ids({ userId: 'member' }, { consumes: true })
  @FormPage('admin/members', 'pageLocals')
  async remove(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('userId', IdPipe) userId: number,
  ) {
    const user = await this.accounts.get(userId);
    await this.tenants.removeMember(tenant.id, userId, { id: req.principal.id }, user.email);
    flash(req, 'success', `${user.name} no longer belongs to ${tenant.name}.`);
    await redirectSeeOther(req, res, this.after(req, tenant, userId));
  }

  @Post('invitations/:id/revoke')
  @Can('delete', 'Membership')
  @Ids({ id: 'invitation' }, { consumes: true })
  async revoke(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
  ) {
    await this.accounts.revokeInvitation(tenant.id, id, { id: req.principal.id });
    flash(req, 'success', 'Invitation withdrawn: its link no longer works.');
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/members`);
  }

  /** Back to the list, unless one just changed their own access: then to where they still belong. */
  private after(req: AuthedRequest, tenant: TenantContext, userId: number): string {
    return userId === req.principal.id ? '/admin' : `/admin/t/${tenant.slug}/members`;
  }
}
