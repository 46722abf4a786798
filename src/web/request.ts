import type { Request } from 'express';

/** What page plumbing reads of the signed-in user (the auth module attaches the full principal). */
export interface RequestPrincipal {
  id: number;
  email: string;
  name: string;
  isOps: boolean;
  /** Display preferences from the profile: the colour theme and the IANA time zone (null: UTC only). */
  theme?: string;
  timezone?: string | null;
  memberships: ReadonlyArray<{
    tenantId: number;
    slug: string;
    name: string;
    role: string;
    archived?: boolean;
  }>;
}

/** The tenant a `/admin/t/:tenant/…` request is about, with the user's role there. */
export interface RequestTenant {
  id: number;
  slug: string;
  name: string;
  role: string | null;
  archived?: boolean;
}

/** A request as the layout sees it: the principal and tenant are set by the auth guard when known. */
export interface WebRequest extends Request {
  principal?: RequestPrincipal;
  tenant?: RequestTenant;
  /** Whether the layout's Bull board link applies to this user. */
  canSeeQueues?: boolean;
  /** Which administration links the navigation shows this user (set by the auth guard). */
  navLinks?: Record<string, boolean>;
}

/** Issues the CSRF token of a page's forms (provided by the auth module). */
export interface CsrfTokens {
  tokenFor(req: Request, res: import('express').Response): string;
}

export const CSRF_TOKENS = Symbol('CSRF_TOKENS');
