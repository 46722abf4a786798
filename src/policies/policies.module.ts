import { Module } from '@nestjs/common';
import { MODULE_MIGRATIONS } from '../database/module-migrations';
import { DemoSourceModule } from '../demo/source';
import { GraphAppModule } from '../graph';
import { TenantsModule } from '../tenants';
import { TenantPolicySource } from './tenant-policy-source';
import { RunsModule } from '../runs';
import { PoliciesRepository } from './policies.repository';
import { PoliciesService } from './policies.service';
import { POLICY_SOURCE } from './policy-source';
import { PolicySortIndexes1765600000000 } from './migrations/1765600000000-policy-sort-indexes';

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
    // The policies table is created by the app's migrations; indexes this module's pages need are its own.
    { provide: MODULE_MIGRATIONS, useValue: [PolicySortIndexes1765600000000] },
  ],
  exports: [PoliciesService],
})
export class PoliciesModule {}
