export const ROLES = ['owner', 'manager', 'operator', 'readonly'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

/** One managed tenant (a customer's Microsoft 365 / Intune tenant). */
export interface Tenant {
  id: number;
  slug: string;
  name: string;
  createdAt: Date;
}

/** A tenant as one user sees it: with their role there. */
export interface TenantMembership {
  id: number;
  slug: string;
  name: string;
  role: Role;
}
