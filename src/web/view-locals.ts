import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { Observable } from 'rxjs';
import { AnonymousCsrf, csrf, isSignedIn } from '../auth/csrf';
import { takeFlash } from './flash';
import type { AuthedRequest } from './principal';

/**
 * What the layout needs (user, tenant switcher, CSRF token, flash) in res.locals, which Express merges
 * into every render; used by the interceptor and by the error pages.
 */
@Injectable()
export class ViewLocals {
  constructor(private readonly anonymous: AnonymousCsrf) {}

  populate(req: AuthedRequest, res: Response): void {
    const locals = res.locals;
    // A signed-in user's token lives in their session; a visitor's in a signed cookie, so showing
    // them the sign-in form stores nothing.
    locals.csrfToken = isSignedIn(req) ? csrf.generateToken(req) : this.anonymous.generateToken(req, res);
    if (req.session) locals.flash = takeFlash(req);
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
}

/** Fills the layout's locals once the guards have run, so the principal is known. */
@Injectable()
export class ViewLocalsInterceptor implements NestInterceptor {
  constructor(private readonly locals: ViewLocals) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    if (req.path.startsWith('/api/')) return next.handle();
    this.locals.populate(req, ctx.switchToHttp().getResponse<Response>());
    return next.handle();
  }
}
