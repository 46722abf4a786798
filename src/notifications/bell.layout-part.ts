import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import type { AuthedRequest } from '../auth';
import { LayoutPart, LayoutPartProvider, WebRequest } from '../web';
import { NotificationsService } from './notifications.service';

/**
 * The unread count of the layout's bell, on every signed-in page under /admin. Read when a full page
 * renders (ViewLocals), so JSON answers, redirects and the fragments pages poll for (the bell's own
 * refresh, a run's live panel, the list's rows) never ask for it.
 */
@Injectable()
@LayoutPart()
export class BellLayoutPart implements LayoutPartProvider {
  constructor(private readonly notifications: NotificationsService) {}

  async fill(req: WebRequest, res: Response): Promise<void> {
    const { principal } = req as AuthedRequest;
    if (!principal || req.method !== 'GET' || !req.path.startsWith('/admin')) return;
    const tenantIds = principal.memberships.map((m) => m.tenantId);
    res.locals.unreadCount = await this.notifications.unreadCount(principal.id, tenantIds);
  }
}
