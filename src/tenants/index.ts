/** The tenants module's public face: other modules import from here only. */
export { TenantsModule } from './tenants.module';
export { ACCESS_CHANGED, TenantsService } from './tenants.service';
export type { AccessChanged, Actor } from './tenants.service';
export { isRole, POLICY_SOURCES, ROLES } from './tenant';
export type { Member, PolicySourceName, Role, Tenant, TenantInput, TenantMembership } from './tenant';
