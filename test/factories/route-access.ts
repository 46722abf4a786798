import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import {
  ABILITY_KEY,
  type Action,
  IDS_KEY,
  type IdsDeclaration,
  PUBLIC_KEY,
  SIGNED_IN_KEY,
  type SubjectName,
} from '../../src/auth';
import type { TestApp } from './test-app';

/** Who may call a route, as its own decorators say. */
export type Access =
  | { kind: 'public' }
  | { kind: 'signedIn' }
  | { kind: 'ability'; action: Action; subject: SubjectName }
  | { kind: 'undeclared' };

export interface RouteAccess {
  /** `METHOD path`, as discoverRoutes keys it. */
  key: string;
  access: Access;
  /** The path names a tenant (`:tenant`): membership decides before the ability does. */
  tenantScoped: boolean;
  ids: IdsDeclaration | null;
  /** Controller and handler, to name the route in a failure. */
  where: string;
}

function join(...parts: string[]): string {
  const path = `/${parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;
  return path;
}

/**
 * Every Nest route of the app with the access its decorators declare (@Public, @Can, @SignedIn on the
 * handler or its controller) and what its id parameters name (@Ids): the authorization matrix derives
 * each route's expected answers from this, so a producer's routes need no row in a central table.
 */
export function routeAccess(t: TestApp): RouteAccess[] {
  const discovery = t.get<DiscoveryService>(DiscoveryService);
  const scanner = t.get<MetadataScanner>(MetadataScanner);
  const reflector = t.get<Reflector>(Reflector);
  const out: RouteAccess[] = [];
  for (const wrapper of discovery.getControllers()) {
    const { metatype, instance } = wrapper;
    if (!metatype || !instance) continue;
    const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
    const proto = Object.getPrototypeOf(instance) as Record<string, unknown>;
    for (const name of scanner.getAllMethodNames(proto)) {
      const handler = proto[name] as object;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (path === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      const targets = [handler as () => void, metatype];
      const ability = reflector.getAllAndOverride<{ action: Action; subject: SubjectName } | undefined>(
        ABILITY_KEY,
        targets,
      );
      const access: Access = reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)
        ? { kind: 'public' }
        : ability
          ? { kind: 'ability', ...ability }
          : reflector.getAllAndOverride<boolean>(SIGNED_IN_KEY, targets)
            ? { kind: 'signedIn' }
            : { kind: 'undeclared' };
      for (const p of ([] as string[]).concat(path)) {
        const full = join(base, p);
        out.push({
          key: `${method} ${full}`,
          access,
          tenantScoped: full.includes(':tenant'),
          ids: reflector.getAllAndOverride<IdsDeclaration | undefined>(IDS_KEY, targets) ?? null,
          where: `${metatype.name}.${name}`,
        });
      }
    }
  }
  return out;
}
