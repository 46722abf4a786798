import type { WebRequest } from '../web';
import type { AppAbility, Principal } from './ability.factory';
import type { Role } from '../tenants';
import type { AuthState } from './users.repository';

export interface TenantContext {
  id: number;
  slug: string;
  name: string;
  /** The user's role here; null for a platform admin administering a tenant they do not belong to. */
  role: Role | null;
  /** Archived tenants are read-only for everyone. */
  archived: boolean;
}

/** What the auth guard attaches to a request. */
export interface AuthedRequest extends WebRequest {
  principal: Principal;
  ability: AppAbility;
  /** Present on routes that carry a :tenant parameter. */
  tenant?: TenantContext;
  /** How the request authenticated: API tokens skip CSRF, sessions do not. */
  authVia?: 'session' | 'token';
  /** The user's auth state, when the session or token read of this request brought it (AuthService.principalFor). */
  authState?: AuthState | null;
}
