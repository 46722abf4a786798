import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../common/app-error';
import { TenantsService } from '../tenants';
import type { AuthedRequest, TenantContext } from './request';
import {
  AbilityFactory,
  Action,
  inTenant,
  onPlatform,
  PLATFORM_MANAGED,
  type Principal,
  SubjectName,
} from './ability.factory';
import { AuthService } from './auth.service';
import { isApiTokenRequest } from './csrf';
import { ABILITY_KEY, PUBLIC_KEY, SIGNED_IN_KEY } from './decorators';

/**
 * Every route is private unless marked @Public. In one place: who is asking (API token or session),
 * which tenant the URL names (404 when the user has no membership there — never 403, so another tenant's
 * existence does not leak), and whether the role allows the route's action.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger('AuthGuard');
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly abilities: AbilityFactory,
    private readonly tenants: TenantsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();

    const userId = await this.identify(req);
    const principal = userId ? await this.auth.principalFor(userId, req.authState) : null;
    if (!principal) throw new AppError('unauthenticated', 'Please sign in to continue.');
    req.principal = principal;
    req.ability = this.abilities.forPrincipal(principal);
    req.canSeeQueues = req.ability.can('read', 'BullBoard');

    const rule = this.reflector.getAllAndOverride<{ action: Action; subject: SubjectName } | undefined>(
      ABILITY_KEY,
      targets,
    );
    if (!rule && !this.reflector.getAllAndOverride<boolean>(SIGNED_IN_KEY, targets)) {
      // Refused by default: a route that forgot to say who may call it is open to nobody.
      this.logger.error(
        { path: req.route?.path ?? req.path },
        'route declares no access (@Can, @SignedIn or @Public)',
      );
      throw AppError.forbidden('This page does not say who may use it, so nobody may.');
    }

    const slug = req.params?.tenant;
    if (slug !== undefined) req.tenant = await this.resolveTenant(principal, String(slug), rule);
    req.navLinks = this.navLinks(req);
    // An archived tenant is read-only for everyone: no change of any kind reaches it.
    if (req.tenant?.archived && req.method !== 'GET' && req.method !== 'HEAD')
      throw AppError.forbidden(`${req.tenant.name} is archived: it can be viewed, not changed.`);
    if (!rule) return true;
    if (req.tenant) {
      if (!req.ability.can(rule.action, inTenant(rule.subject, req.tenant.id))) throw AppError.forbidden();
    } else if (!req.ability.can(rule.action, onPlatform(rule.subject))) {
      throw AppError.forbidden();
    }
    return true;
  }

  /** The administration links the navigation offers this user, as the ability table says. */
  private navLinks(req: AuthedRequest): Record<string, boolean> {
    const a = req.ability;
    const t = req.tenant;
    return {
      members: Boolean(t && a.can('read', inTenant('Membership', t.id))),
      audit: Boolean(t && a.can('read', inTenant('AuditEntry', t.id))),
      connection: Boolean(t && a.can('read', inTenant('Connection', t.id))),
      tenants: a.can('read', onPlatform('Tenant')),
      users: a.can('read', onPlatform('User')),
      platformAudit: a.can('read', onPlatform('AuditEntry')),
    };
  }

  /**
   * The tenant a URL names, as this user may see it: through their membership, or, for a platform
   * admin, for administering it (PLATFORM_MANAGED subjects). Anyone else: 404, never 403, so another
   * tenant's existence does not leak.
   */
  private async resolveTenant(
    principal: Principal,
    slug: string,
    rule: { action: Action; subject: SubjectName } | undefined,
  ): Promise<TenantContext> {
    const m = principal.memberships.find((t) => t.slug === slug);
    if (m) return { id: m.tenantId, slug: m.slug, name: m.name, role: m.role, archived: m.archived };
    if (principal.isOps && rule && PLATFORM_MANAGED.includes(rule.subject)) {
      const t = await this.tenants.findBySlug(slug);
      if (t) return { id: t.id, slug: t.slug, name: t.name, role: null, archived: t.archivedAt !== null };
    }
    throw AppError.notFound('Tenant');
  }

  private async identify(req: AuthedRequest): Promise<number | null> {
    // Tokens are for the JSON API; pages are a browser's business, with its session and CSRF token,
    // and an Authorization header sent to them means nothing.
    if (isApiTokenRequest(req)) {
      const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization!);
      const found = match ? await this.auth.userIdForToken(match[1]) : null;
      if (!found) throw new AppError('unauthenticated', 'The API token is missing, malformed or revoked.');
      req.authVia = 'token';
      req.authState = found.state;
      return found.userId;
    }
    const sessionUser = (req.session as { userId?: number } | undefined)?.userId;
    if (sessionUser) req.authVia = 'session';
    return sessionUser ?? null;
  }
}
