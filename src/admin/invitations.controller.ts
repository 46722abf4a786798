import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AccountsService, AuthService, Ids, LinkError, LINK_MESSAGES, Public } from '../auth';
import { FormPage, redirectSeeOther } from '../web';

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((e) => (e ? reject(e) : resolve())));
}

/**
 * `/invite/<token>`: an invitation to a tenant, or a set-password link (from the CLI or a platform
 * admin). Anyone holding the link may open it; it works once, for 7 days. The token is in the path, so
 * these pages send no Referer anywhere and are never cached.
 */
@ApiExcludeController()
@Controller('invite')
export class InvitationsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly auth: AuthService,
  ) {}

  @Public()
  @Ids({ token: 'invitation_token' })
  @Get(':token')
  async open(@Req() req: Request, @Res() res: Response, @Param('token') token: string) {
    private_(res);
    const link = await this.accounts.inspect(token);
    if (link.state !== 'valid') return this.invalid(res, link.state);
    res.render('admin/accept', await this.acceptLocals(req));
  }

  async acceptLocals(req: Request) {
    const link = await this.accounts.inspect(String(req.params.token));
    if (link.state !== 'valid') throw new LinkError(link.state);
    const { invitation: inv, tenant, user } = link;
    const joining = inv.purpose === 'invite';
    return {
      title: joining ? `Join ${tenant!.name}` : 'Set your password',
      bare: true,
      joining,
      existing: joining && user !== null,
      tenantName: tenant?.name,
      role: inv.role,
      email: user?.email ?? inv.email,
      name: user?.name ?? '',
      action: `/invite/${String(req.params.token)}`,
      expiresAt: inv.expiresAt,
    };
  }

  @Public()
  @Ids({ token: 'invitation_token' }, { consumes: true })
  @Post(':token')
  @FormPage('admin/accept', 'acceptLocals')
  async accept(
    @Req() req: Request,
    @Res() res: Response,
    @Param('token') token: string,
    @Body() body: Record<string, unknown>,
  ) {
    private_(res);
    try {
      const { userId, next } = await this.accounts.accept(token, body);
      // A fresh session for the account, as a sign-in makes.
      await regenerate(req);
      (req.session as { userId?: number }).userId = userId;
      await this.auth.signedIn(userId);
      await redirectSeeOther(req, res, next);
    } catch (e) {
      if (e instanceof LinkError) return this.invalid(res, e.state);
      throw e;
    }
  }

  private invalid(res: Response, state: 'expired' | 'used' | 'unknown') {
    res.status(state === 'unknown' ? 404 : 410).render('admin/link-invalid', {
      title: 'Link not valid',
      bare: true,
      heading:
        state === 'unknown'
          ? 'This link is not valid'
          : state === 'used'
            ? 'Link already used'
            : 'Link expired',
      message: LINK_MESSAGES[state],
    });
  }
}

/** The token is in the URL: no Referer to other sites, no copy in any cache. */
function private_(res: Response) {
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
}
