import { Module } from '@nestjs/common';
import { DemoSourceModule } from '../demo/source';
import { GraphAppModule } from '../graph';
import { TenantsModule } from '../tenants';
import { TenantPolicySource } from './tenant-policy-source';
import { RunsModule } from '../runs';
import { PoliciesRepository } from './policies.repository';
import { PoliciesService } from './policies.service';
import { POLICY_SOURCE } from './policy-source';

/**
 * A tenant's policies, snapshots and payloads, and its policy source. Not a producer: the inventory
 * sync writes through it and drift and backup sets read through it.
 */
@Module({
  imports: [RunsModule, DemoSourceModule, GraphAppModule, TenantsModule],
  providers: [
    PoliciesRepository,
    PoliciesService,
    TenantPolicySource,
    { provide: POLICY_SOURCE, useExisting: TenantPolicySource },
  ],
  exports: [PoliciesService],
})
export class PoliciesModule {}
