/** The tenants module's public face: other modules import from here only. */
export { TenantsModule } from './tenants.module';
export { TenantsService } from './tenants.service';
export { ROLES, isRole } from './tenant';
export type { Role, Tenant, TenantMembership } from './tenant';
