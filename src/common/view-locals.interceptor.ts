import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { Observable } from 'rxjs';
import { csrf } from '../auth/csrf';
import { takeFlash } from './flash';
import type { AuthedRequest } from './principal';

/**
 * Fills what the layout needs (user, tenant switcher, CSRF token, flash) into res.locals, which Express
 * merges into every render. Runs after the guards, so the principal is known.
 */
@Injectable()
export class ViewLocalsInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    if (req.path.startsWith('/api/')) return next.handle();
    const res = ctx.switchToHttp().getResponse<Response>();
    populateLocals(req, res);
    return next.handle();
  }
}

export function populateLocals(req: AuthedRequest, res: Response): void {
  const locals = res.locals;
  if (req.session) {
    locals.csrfToken = csrf.generateToken(req);
    locals.flash = takeFlash(req);
  }
  if (req.principal) {
    locals.user = {
      id: req.principal.id,
      name: req.principal.name,
      email: req.principal.email,
      isOps: req.principal.isOps,
    };
    locals.tenants = [...req.principal.memberships]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((m) => ({ slug: m.slug, name: m.name, role: m.role, current: m.slug === req.tenant?.slug }));
    locals.canSeeQueues = req.ability?.can('read', 'BullBoard') ?? false;
  }
  if (req.tenant) locals.tenant = req.tenant;
  locals.path = req.path;
}
