import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { csrfSync } from 'csrf-sync';
import type { Request } from 'express';
import { AppError } from '../common/app-error';

/** Synchronizer-token CSRF: the token lives in the server-side session and every POST form carries it. */
export const csrf = csrfSync({
  getTokenFromRequest: (req: Request) =>
    ((req.body as Record<string, unknown> | undefined)?._csrf as string | undefined) ??
    (req.headers['x-csrf-token'] as string | undefined),
});

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

@Injectable()
export class CsrfGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<Request>();
    if (SAFE.has(req.method)) return true;
    // A Bearer token is not sent by the browser on its own, so such requests cannot be forged cross-site.
    if (req.headers.authorization) return true;
    if (!req.session || !csrf.isRequestValid(req)) {
      throw new AppError(
        'csrf_invalid',
        'This form has expired or did not come from this site. Reload the page and try again.',
      );
    }
    return true;
  }
}
