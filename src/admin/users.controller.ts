import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AccountsService, type AuthedRequest, Can, Ids } from '../auth';
import { AppError } from '../common/app-error';
import { IdPipe } from '../common/id.pipe';
import { textParam } from '../common/query-params';
import { flash, FormPage, redirectSeeOther } from '../web';

const PAGE = 50;

/** Platform → Users: every account, searchable, with deactivate/reactivate and platform admin. */
@ApiExcludeController()
@Controller('admin/users')
export class UsersController {
  constructor(private readonly accounts: AccountsService) {}

  @Get()
  @Can('read', 'User')
  async list(@Req() req: AuthedRequest, @Res() res: Response, @Query() q: Record<string, unknown>) {
    const session = req.session as { passwordLink?: { url: string; email: string; mailed: boolean } };
    const created = session.passwordLink;
    delete session.passwordLink;
    res.render('admin/users', { ...(await this.listLocals(req, q)), created });
  }

  async listLocals(req: AuthedRequest, query?: Record<string, unknown>) {
    const q = query ?? (req.query as Record<string, unknown>);
    const search = textParam(q.q, 'q', 190) ?? '';
    const after = textParam(q.after, 'after', 190);
    const rows = await this.accounts.search(search, PAGE + 1, after);
    const users = rows.slice(0, PAGE).map((u) => ({
      ...u,
      isYou: u.id === req.principal.id,
      back: `/admin/users${search ? `?q=${encodeURIComponent(search)}` : ''}`,
    }));
    const last = users[users.length - 1];
    return {
      title: 'Users',
      nav: 'users',
      users,
      search,
      nextHref:
        rows.length > PAGE && last
          ? `?${new URLSearchParams({ ...(search ? { q: search } : {}), after: last.email }).toString()}`
          : null,
      firstHref: after ? `?${new URLSearchParams(search ? { q: search } : {}).toString()}` : null,
    };
  }

  @Post(':id/deactivate')
  @Can('update', 'User')
  @Ids({ id: 'user' }, { consumes: true })
  @FormPage('admin/users', 'listLocals')
  async deactivate(@Req() req: AuthedRequest, @Res() res: Response, @Param('id', IdPipe) id: number) {
    const user = await this.accounts.get(id);
    const changed = await this.accounts.deactivate(id, { id: req.principal.id });
    flash(
      req,
      changed ? 'success' : 'info',
      changed
        ? `${user.email} deactivated: their sessions ended and their API tokens no longer work.`
        : `${user.email} was deactivated already.`,
    );
    await redirectSeeOther(req, res, '/admin/users');
  }

  @Post(':id/reactivate')
  @Can('update', 'User')
  @Ids({ id: 'user' })
  async reactivate(@Req() req: AuthedRequest, @Res() res: Response, @Param('id', IdPipe) id: number) {
    const user = await this.accounts.get(id);
    const changed = await this.accounts.reactivate(id, { id: req.principal.id });
    flash(
      req,
      changed ? 'success' : 'info',
      `${user.email} ${changed ? 'reactivated' : 'was active already'}.`,
    );
    await redirectSeeOther(req, res, '/admin/users');
  }

  @Post(':id/ops')
  @Can('update', 'User')
  @Ids({ id: 'user' })
  @FormPage('admin/users', 'listLocals')
  async ops(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @Param('id', IdPipe) id: number,
    @Body('is_ops') isOps: unknown,
  ) {
    if (isOps !== '1' && isOps !== '0') throw AppError.badRequest('"is_ops" must be 1 or 0.');
    const user = await this.accounts.get(id);
    const changed = await this.accounts.setPlatformAdmin(id, isOps === '1', { id: req.principal.id });
    flash(
      req,
      changed ? 'success' : 'info',
      `${user.email} ${changed ? 'is now' : 'was already'} ${isOps === '1' ? 'a platform admin' : 'not a platform admin'}.`,
    );
    await redirectSeeOther(req, res, '/admin/users');
  }

  @Post(':id/password-link')
  @Can('update', 'User')
  @Ids({ id: 'user' })
  @FormPage('admin/users', 'listLocals')
  async passwordLink(@Req() req: AuthedRequest, @Res() res: Response, @Param('id', IdPipe) id: number) {
    const user = await this.accounts.get(id);
    const link = await this.accounts.resetPassword(user.email, { id: req.principal.id });
    (req.session as { passwordLink?: object }).passwordLink = {
      url: link.url,
      email: user.email,
      mailed: link.mailed,
    };
    await redirectSeeOther(req, res, '/admin/users');
  }
}
