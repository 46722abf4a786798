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
