import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { parse as parseCookies } from 'cookie';
import { doubleCsrf, DoubleCsrfUtilities } from 'csrf-csrf';
import { csrfSync } from 'csrf-sync';
import type { Request, Response } from 'express';
import { AppError } from '../common/app-error';
import type { CsrfTokens } from '../web';

const tokenFromRequest = (req: Request) =>
  ((req.body as Record<string, unknown> | undefined)?._csrf as string | undefined) ??
  (req.headers['x-csrf-token'] as string | undefined);

/** Signed-in users: a synchronizer token kept in their server-side session. */
export const csrf = csrfSync({ getTokenFromRequest: tokenFromRequest });

export const ANON_CSRF_COOKIE = 'ops.csrf';

/**
 * Visitors who are not signed in (the sign-in and invitation forms): a signed double-submit token
 * (a cookie and the same value in the form), so showing them a form stores nothing on the server.
 * A session row per anonymous page view was a cheap way to fill the sessions table.
 */
export class AnonymousCsrf {
  private readonly utils: DoubleCsrfUtilities;

  constructor(secret: string, secure: boolean) {
    this.utils = doubleCsrf({
      getSecret: () => secret,
      // Nothing identifies an anonymous visitor; the cookie (SameSite, HttpOnly) binds the token.
      getSessionIdentifier: () => '',
      cookieName: ANON_CSRF_COOKIE,
      cookieOptions: { sameSite: 'lax', path: '/', secure, httpOnly: true },
      getCsrfTokenFromRequest: tokenFromRequest,
    });
  }

  generateToken(req: Request, res: Response): string {
    withCookies(req);
    return this.utils.generateCsrfToken(req, res);
  }

  isRequestValid(req: Request): boolean {
    withCookies(req);
    return this.utils.validateRequest(req);
  }
}

/** csrf-csrf reads req.cookies; parsed here, only for the requests that need it. */
function withCookies(req: Request): void {
  const r = req as Request & { cookies?: Record<string, string | undefined> };
  r.cookies ??= parseCookies(req.headers.cookie ?? '');
}

/**
 * The token a page's forms carry: a signed-in user's lives in their session; a visitor's in a signed
 * cookie, so showing them the sign-in form stores nothing.
 */
export class CsrfTokenIssuer implements CsrfTokens {
  constructor(private readonly anonymous: AnonymousCsrf) {}

  tokenFor(req: Request, res: Response): string {
    return isSignedIn(req) ? csrf.generateToken(req) : this.anonymous.generateToken(req, res);
  }
}

/** Whether the request is a signed-in user's (their session names them). */
export function isSignedIn(req: Request): boolean {
  return Boolean((req.session as { userId?: number } | undefined)?.userId);
}

/** Bearer tokens mean something on the JSON API only; anywhere else the header is ignored. */
export function isApiTokenRequest(req: Request): boolean {
  return req.path.startsWith('/api/') && Boolean(req.headers.authorization);
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(private readonly anonymous: AnonymousCsrf) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<Request>();
    if (SAFE.has(req.method)) return true;
    // A Bearer token is not sent by the browser on its own, so such API requests cannot be forged.
    if (isApiTokenRequest(req)) return true;
    const valid = isSignedIn(req) ? csrf.isRequestValid(req) : this.anonymous.isRequestValid(req);
    if (!valid) {
      throw new AppError(
        'csrf_invalid',
        'This form has expired or did not come from this site. Reload the page and try again.',
      );
    }
    return true;
  }
}
