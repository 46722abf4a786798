import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { AuthedRequest } from './request';
import type { Action, SubjectName } from './ability.factory';

export const PUBLIC_KEY = 'auth:public';
/** The route needs no signed-in user (login page, probes). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export const ABILITY_KEY = 'auth:ability';
/** The signed-in user must be allowed `action` on `subject` inside the route's :tenant. */
export const Can = (action: Action, subject: SubjectName) => SetMetadata(ABILITY_KEY, { action, subject });

export const CurrentTenant = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const tenant = ctx.switchToHttp().getRequest<AuthedRequest>().tenant;
  if (!tenant) throw new Error('CurrentTenant used on a route without a :tenant parameter');
  return tenant;
});

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<AuthedRequest>().principal,
);

export const SIGNED_IN_KEY = 'auth:signed-in';
/**
 * Any signed-in user may call the route — their own things (profile, notifications); on a `:tenant`
 * route, any member of that tenant. A route must say who may call it: @Public, @Can or @SignedIn.
 */
export const SignedIn = () => SetMetadata(SIGNED_IN_KEY, true);

export const IDS_KEY = 'auth:ids';

export interface IdsDeclaration {
  /** `:param` → what it names: `run`, `run:<type>`, `backup_set`, a producer's own kind, … */
  kinds: Record<string, string>;
  /** A permitted call uses the object up (delete, cancel, revoke). */
  consumes: boolean;
}

/**
 * What the route's id parameters name. Nothing reads it at run time: the authorization matrix test
 * fills each parameter with a real id of that kind (and another tenant's) for every kind of caller.
 */
export const Ids = (kinds: Record<string, string>, opts: { consumes?: boolean } = {}) =>
  SetMetadata(IDS_KEY, { kinds, consumes: opts.consumes ?? false } satisfies IdsDeclaration);
