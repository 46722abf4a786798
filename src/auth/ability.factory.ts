import { AbilityBuilder, createMongoAbility, MongoAbility, subject as caslSubject } from '@casl/ability';
import { Injectable } from '@nestjs/common';
import type { Role } from '../tenants';

export type Action = 'read' | 'start' | 'cancel' | 'retry' | 'create' | 'update' | 'delete';
/** Tenant-scoped things, plus the platform-wide Bull board. */
export type SubjectName =
  'Run' | 'Finding' | 'Policy' | 'BackupSet' | 'Tenant' | 'Notification' | 'BullBoard';
export type AppAbility = MongoAbility<[Action, SubjectName | { __caslSubjectType__: SubjectName }]>;

export interface Principal {
  id: number;
  email: string;
  name: string;
  isOps: boolean;
  memberships: Array<{ tenantId: number; slug: string; name: string; role: Role }>;
}

const READABLE: SubjectName[] = ['Run', 'Finding', 'Policy', 'BackupSet'];

/**
 * The one place that says what each role may do. Rules carry the tenant as a condition, so the same
 * ability answers both "may this user start runs here?" and "may they act on this record?".
 */
@Injectable()
export class AbilityFactory {
  forPrincipal(p: Principal): AppAbility {
    const { can, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
    for (const m of p.memberships) {
      const own = { tenantId: m.tenantId };
      can('read', READABLE, own);
      if (m.role !== 'readonly') {
        can(['start', 'cancel', 'retry'], 'Run', own);
      }
      if (m.role === 'owner' || m.role === 'manager') {
        can(['create', 'update', 'delete'], 'BackupSet', own);
        // Tenant settings, such as the demo source's simulated faults.
        can('update', 'Tenant', own);
      }
    }
    // Bull board shows every tenant's jobs: platform staff only, and never a view-only account.
    if (p.isOps && p.memberships.some((m) => m.role !== 'readonly')) can('read', 'BullBoard');
    return build();
  }
}

/** Wraps a tenant id as a CASL subject for condition matching. */
export function inTenant(type: SubjectName, tenantId: number) {
  return caslSubject(type, { tenantId }) as unknown as { __caslSubjectType__: SubjectName };
}
