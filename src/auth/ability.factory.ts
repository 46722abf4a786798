import { AbilityBuilder, createMongoAbility, MongoAbility, subject as caslSubject } from '@casl/ability';
import { Injectable } from '@nestjs/common';
import type { Role } from '../tenants';

export type Action = 'read' | 'start' | 'cancel' | 'retry' | 'create' | 'update' | 'delete';
/**
 * Tenant-scoped things; and the platform's: tenants themselves, users, the platform audit log, the Bull
 * board. A platform check asks about the subject with `tenantId: null` (see onPlatform), so a tenant
 * owner's rights never answer a platform question.
 */
export type SubjectName =
  | 'Run'
  | 'Finding'
  | 'Policy'
  | 'BackupSet'
  | 'Tenant'
  | 'Notification'
  | 'BullBoard'
  | 'Membership'
  | 'User'
  | 'AuditEntry'
  | 'Connection';
export type AppAbility = MongoAbility<[Action, SubjectName | { __caslSubjectType__: SubjectName }]>;

export interface Principal {
  id: number;
  email: string;
  name: string;
  /** A platform admin: manages tenants and users, and may administer any tenant (PLATFORM_MANAGED). */
  isOps: boolean;
  /** Display preferences (profile page): optional, so principals built elsewhere need not name them. */
  theme?: 'system' | 'light' | 'dark';
  timezone?: string | null;
  memberships: Array<{ tenantId: number; slug: string; name: string; role: Role; archived: boolean }>;
}

const READABLE: SubjectName[] = ['Run', 'Finding', 'Policy', 'BackupSet'];
const WRITES: Action[] = ['start', 'cancel', 'retry', 'create', 'update', 'delete'];
const TENANT_SUBJECTS: SubjectName[] = [...READABLE, 'Tenant', 'Membership', 'Connection'];

/**
 * What a platform admin may do in a tenant they are not a member of: administer it (its members, its
 * audit log, its Microsoft connection), not see or start its runs. The guard admits such a request
 * only for these subjects, and then by the ability table like any other.
 */
export const PLATFORM_MANAGED: readonly SubjectName[] = ['Membership', 'AuditEntry', 'Connection'];

/**
 * The one place that says what each role may do. Rules carry the tenant as a condition, so the same
 * ability answers both "may this user start runs here?" and "may they act on this record?". An
 * archived tenant is read-only for everyone, its owners and the platform's admins included.
 */
@Injectable()
export class AbilityFactory {
  /**
   * One ability per principal object: AuthService hands out the same principal until something about
   * the user's access changes (its auth version), and then a new one, so this never outlives a change.
   * A user of many tenants would otherwise rebuild rules for every membership on every request.
   */
  private readonly built = new WeakMap<Principal, AppAbility>();

  forPrincipal(p: Principal): AppAbility {
    let ability = this.built.get(p);
    if (!ability) {
      ability = this.build(p);
      this.built.set(p, ability);
    }
    return ability;
  }

  private build(p: Principal): AppAbility {
    const { can, cannot, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
    for (const m of p.memberships) {
      const own = { tenantId: m.tenantId };
      const admin = m.role === 'owner' || m.role === 'manager';
      can('read', READABLE, own);
      // Managers see who is a member and what happened; operators and readonly see their own role only.
      if (admin) can('read', ['Membership', 'AuditEntry'], own);
      if (m.role === 'owner') can('read', 'Connection', own);
      if (m.archived) continue;
      if (m.role !== 'readonly') can(['start', 'cancel', 'retry'], 'Run', own);
      if (admin) {
        can(['create', 'update', 'delete'], 'BackupSet', own);
        // Tenant settings, such as the demo source's simulated faults.
        can('update', 'Tenant', own);
      }
      if (m.role === 'owner') {
        can(['create', 'update', 'delete'], 'Membership', own);
        can('update', 'Connection', own);
      }
    }
    if (p.isOps) {
      const platform = { tenantId: null };
      can(['read', 'create', 'update'], 'Tenant', platform);
      can(['read', 'update'], 'User', platform);
      // The platform's audit log, and any tenant's.
      can('read', 'AuditEntry');
      can(['read', 'create', 'update', 'delete'], 'Membership');
      can(['read', 'update'], 'Connection');
      // Bull board shows every tenant's jobs: platform staff only, and never a view-only account.
      if (p.memberships.some((m) => m.role !== 'readonly')) can('read', 'BullBoard');
    }
    for (const m of p.memberships) {
      const archived = { tenantId: m.tenantId };
      if (m.archived) cannot(WRITES, TENANT_SUBJECTS, archived);
    }
    return build();
  }
}

/** Wraps a tenant id as a CASL subject for condition matching. */
export function inTenant(type: SubjectName, tenantId: number) {
  return caslSubject(type, { tenantId }) as unknown as { __caslSubjectType__: SubjectName };
}

/** The subject on the platform, outside every tenant: only platform rules match it. */
export function onPlatform(type: SubjectName) {
  return caslSubject(type, { tenantId: null }) as unknown as { __caslSubjectType__: SubjectName };
}
