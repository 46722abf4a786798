import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { Observable } from 'rxjs';
import { takeFlash } from './flash';
import { CSRF_TOKENS, CsrfTokens, WebRequest } from './request';

/**
 * What the layout needs (user, tenant switcher, CSRF token, flash) in res.locals, which Express merges
 * into every render; used by the interceptor and by the error pages.
 */
@Injectable()
export class ViewLocals {
  constructor(@Inject(CSRF_TOKENS) private readonly csrf: CsrfTokens) {}

  populate(req: WebRequest, res: Response): void {
    const locals = res.locals;
    locals.csrfToken = this.csrf.tokenFor(req, res);
    if (req.session) locals.flash = takeFlash(req);
    if (req.principal) {
      locals.user = {
        id: req.principal.id,
        name: req.principal.name,
        email: req.principal.email,
        isOps: req.principal.isOps,
      };
      const tenants = [...req.principal.memberships]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((m) => ({
          slug: m.slug,
          name: m.name,
          role: m.role,
          archived: m.archived ?? false,
          current: m.slug === req.tenant?.slug,
        }));
      // The switcher lists active tenants; archived ones only under their own heading.
      locals.tenants = tenants.filter((t) => !t.archived);
      locals.archivedTenants = tenants.filter((t) => t.archived);
      locals.canSeeQueues = req.canSeeQueues ?? false;
      locals.navLinks = req.navLinks ?? {};
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
    const req = ctx.switchToHttp().getRequest<WebRequest>();
    if (req.path.startsWith('/api/')) return next.handle();
    this.locals.populate(req, ctx.switchToHttp().getResponse<Response>());
    return next.handle();
  }
}
