export const ROLES = ['owner', 'manager', 'operator', 'readonly'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

export const POLICY_SOURCES = ['demo', 'graph'] as const;
export type PolicySourceName = (typeof POLICY_SOURCES)[number];

/** One managed tenant (a customer's Microsoft 365 / Intune tenant). */
export interface Tenant {
  id: number;
  slug: string;
  name: string;
  /** The customer's Entra tenant: a GUID or a verified domain; null for demo tenants. */
  microsoftTenantId: string | null;
  notes: string | null;
  policySource: PolicySourceName;
  /** Archived tenants keep their history and are read-only for everyone. */
  archivedAt: Date | null;
  createdAt: Date;
}

/** A tenant as one user sees it: with their role there. */
export interface TenantMembership {
  id: number;
  slug: string;
  name: string;
  role: Role;
  archived: boolean;
}

/** A member of a tenant, as the tenants module knows them (names and e-mails are the auth module's). */
export interface Member {
  userId: number;
  role: Role;
  since: Date;
}

/** The details a tenant is created or edited with. */
export interface TenantInput {
  slug: string;
  name: string;
  microsoftTenantId: string | null;
  notes: string | null;
}
