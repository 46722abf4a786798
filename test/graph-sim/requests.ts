import { CATALOG_PAGE_SIZE, DEFAULT_PAGE_SIZE } from './collections';
import type { TenantFixture } from './fixture';

/**
 * The fewest Graph requests a full read of a tenant can cost with Graph's own API: every page of
 * every list (with the expansions Graph allows on lists), the settings pages of each settings catalog
 * policy, and the per-item reads of the types whose lists cannot carry their details (group policy
 * definition values, enrollment configurations, Autopilot profiles, scripts, intents and their
 * settings, app protection policies). The simulator pages as Graph does: 100 per page, 25 for the
 * settings catalog and its settings.
 */
export function minimumRequests(fixture: TenantFixture): number {
  const c = fixture.collections;
  const pages = (n: number, size = DEFAULT_PAGE_SIZE) => Math.max(1, Math.ceil(n / size));
  const n = (name: keyof TenantFixture['collections']) => c[name]?.length ?? 0;
  const catalog = c.configurationPolicies ?? [];
  const groupPolicy = c.groupPolicyConfigurations ?? [];
  return (
    pages(n('deviceConfigurations')) + // assignments expanded
    pages(n('deviceCompliancePolicies')) + // assignments and scheduled actions expanded
    pages(catalog.length, CATALOG_PAGE_SIZE) +
    catalog.reduce((sum, p) => sum + pages((p.settings as unknown[]).length, CATALOG_PAGE_SIZE), 0) +
    pages(groupPolicy.length) +
    groupPolicy.reduce((sum, p) => sum + 2 + (p.definitionValues as unknown[]).length, 0) +
    pages(n('deviceEnrollmentConfigurations')) +
    n('deviceEnrollmentConfigurations') +
    pages(n('windowsAutopilotDeploymentProfiles')) +
    n('windowsAutopilotDeploymentProfiles') +
    pages(n('deviceManagementScripts')) +
    n('deviceManagementScripts') +
    pages(n('intents')) +
    2 * n('intents') +
    pages(n('managedAppPolicies')) +
    n('managedAppPolicies') +
    pages(n('conditionalAccessPolicies'))
  );
}
