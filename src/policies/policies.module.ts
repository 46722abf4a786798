import { Module } from '@nestjs/common';
import { DemoPolicySource, DemoSourceModule } from '../demo/source';
import { RunsModule } from '../runs';
import { PoliciesRepository } from './policies.repository';
import { PoliciesService } from './policies.service';
import { POLICY_SOURCE } from './policy-source';

/**
 * A tenant's policies, snapshots and payloads, and its policy source. Not a producer: the inventory
 * sync writes through it and drift and backup sets read through it.
 */
@Module({
  imports: [RunsModule, DemoSourceModule],
  providers: [PoliciesRepository, PoliciesService, { provide: POLICY_SOURCE, useExisting: DemoPolicySource }],
  exports: [PoliciesService],
})
export class PoliciesModule {}
