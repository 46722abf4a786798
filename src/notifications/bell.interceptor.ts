import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { from, Observable, switchMap } from 'rxjs';
import type { AuthedRequest } from '../auth';
import { NO_LAYOUT } from '../web';
import { NotificationsService } from './notifications.service';

/** Puts the unread count into every signed-in page's layout (the bell); @NoLayout routes go without. */
@Injectable()
export class BellInterceptor implements NestInterceptor {
  constructor(
    private readonly notifications: NotificationsService,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    if (!req.principal || req.method !== 'GET' || !req.path.startsWith('/admin')) return next.handle();
    if (this.reflector.get<boolean>(NO_LAYOUT, ctx.getHandler())) return next.handle();
    const res = ctx.switchToHttp().getResponse<Response>();
    const tenantIds = req.principal.memberships.map((m) => m.tenantId);
    return from(this.notifications.unreadCount(req.principal.id, tenantIds)).pipe(
      switchMap((n) => {
        res.locals.unreadCount = n;
        return next.handle();
      }),
    );
  }
}
