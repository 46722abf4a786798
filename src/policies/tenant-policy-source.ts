import { Injectable } from '@nestjs/common';
import { DemoPolicySource } from '../demo/source';
import { GraphPolicySource } from '../graph';
import { TenantsService, type PolicySourceName } from '../tenants';
import type { PolicySource, PolicySourceTenant, PolicyTypeListing, SourcePolicy } from './policy-source';

/**
 * The app's POLICY_SOURCE: each call goes to the source the tenant is set to (`tenants.policy_source`),
 * the synthetic demo source or Microsoft Graph, so drift, backup sets and syncs work the same on both.
 */
@Injectable()
export class TenantPolicySource implements PolicySource {
  readonly name = 'per-tenant';

  constructor(
    private readonly demo: DemoPolicySource,
    private readonly graph: GraphPolicySource,
    private readonly tenants: TenantsService,
  ) {}

  async sourceOf(tenantId: number): Promise<PolicySourceName> {
    return (await this.tenants.findById(tenantId))?.policySource ?? 'demo';
  }

  private async pick(tenant: PolicySourceTenant): Promise<PolicySource> {
    return (await this.sourceOf(tenant.id)) === 'graph' ? this.graph : this.demo;
  }

  async listPolicies(tenant: PolicySourceTenant): Promise<SourcePolicy[]> {
    return (await this.pick(tenant)).listPolicies(tenant);
  }

  async listByType(tenant: PolicySourceTenant): Promise<PolicyTypeListing[]> {
    const source = await this.pick(tenant);
    if (source.listByType) return source.listByType(tenant);
    const byType = new Map<string, SourcePolicy[]>();
    for (const p of await source.listPolicies(tenant))
      byType.set(p.policyType, [...(byType.get(p.policyType) ?? []), p]);
    return [...byType.entries()].map(([policyType, policies]) => ({ policyType, policies }));
  }

  async getPolicy(tenant: PolicySourceTenant, policyType: string, externalId: string) {
    return (await this.pick(tenant)).getPolicy(tenant, policyType, externalId);
  }

  async getPolicies(tenant: PolicySourceTenant, keys: Array<{ policyType: string; externalId: string }>) {
    const source = await this.pick(tenant);
    return source.getPolicies
      ? source.getPolicies(tenant, keys)
      : Promise.all(keys.map((k) => source.getPolicy(tenant, k.policyType, k.externalId)));
  }

  async settingLabels(tenant: PolicySourceTenant, paths: string[]): Promise<Record<string, string>> {
    return (await this.pick(tenant)).settingLabels(tenant, paths);
  }

  async afterSync(tenant: PolicySourceTenant): Promise<void> {
    await (await this.pick(tenant)).afterSync?.(tenant);
  }

  /** Where a tenant's source is set up: the demo source's switches, or the Microsoft connection. */
  async settingsHrefOf(tenant: PolicySourceTenant): Promise<string | null> {
    return (await this.sourceOf(tenant.id)) === 'graph'
      ? `/admin/t/${tenant.slug}/connection`
      : (this.demo.settingsHref?.(tenant.slug) ?? null);
  }
}
