import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AppError } from '../common/app-error';
import { Ids, SignedIn, type AuthedRequest } from '../auth';
import { IdPipe } from '../common/id.pipe';
import { flash, NoLayout, redirectSeeOther } from '../web';
import { idParam } from '../common/query-params';
import { NotificationsService } from './notifications.service';

const PAGE = 30;

@SignedIn()
@Controller('admin/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  async list(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @Query('before') before?: unknown,
    @Query('unread') unread?: unknown,
  ) {
    const beforeId = idParam(before, 'before', 'a notification id');
    const tenantIds = req.principal.memberships.map((m) => m.tenantId);
    const names = new Map(req.principal.memberships.map((m) => [m.tenantId, m.name]));
    const rows = await this.notifications.list(req.principal.id, tenantIds, {
      beforeId,
      unreadOnly: unread === '1',
      limit: PAGE + 1,
    });
    const page = rows.slice(0, PAGE);
    res.render('notifications/list', {
      title: 'Notifications',
      nav: 'notifications',
      notifications: page.map((n) => ({ ...n, tenantName: names.get(n.tenantId) })),
      unreadOnly: unread === '1',
      olderHref:
        rows.length > PAGE
          ? `?${new URLSearchParams({ before: String(page[page.length - 1].id), ...(unread === '1' ? { unread: '1' } : {}) })}`
          : null,
    });
  }

  /** The bell alone, for the layout's periodic refresh. */
  @Get('bell')
  @NoLayout()
  async bell(@Req() req: AuthedRequest, @Res() res: Response) {
    const tenantIds = req.principal.memberships.map((m) => m.tenantId);
    res.render('notifications/_bell', {
      layout: false,
      unreadCount: await this.notifications.unreadCount(req.principal.id, tenantIds),
    });
  }

  @Post('read-all')
  async readAll(@Req() req: AuthedRequest, @Res() res: Response) {
    await this.notifications.markAllRead(req.principal.id);
    flash(req, 'success', 'All notifications marked as read.');
    await redirectSeeOther(req, res, '/admin/notifications');
  }

  @Ids({ id: 'notification' })
  @Post(':id/read')
  async read(@Req() req: AuthedRequest, @Res() res: Response, @Param('id', IdPipe) id: number) {
    if (!(await this.notifications.markRead(req.principal.id, id))) throw AppError.notFound('Notification');
    await redirectSeeOther(req, res, '/admin/notifications');
  }
}
