import { Module } from '@nestjs/common';
import { DemoPolicySource } from './demo-policy-source';
import { DemoStateRepository } from './demo-state.repository';

/**
 * The `demo` policy source alone (no seed, no pages), so the policies module can offer it without
 * depending on what the demo seed needs.
 */
@Module({
  providers: [DemoStateRepository, DemoPolicySource],
  exports: [DemoPolicySource],
})
export class DemoSourceModule {}

export { DemoPolicySource };
export { FAULT_OPERATIONS } from './demo-state.repository';
export type { DemoState, FaultOperation } from './demo-state.repository';
export { demoChanges, demoPolicies } from './demo-policies';
export type { DemoChanges, DemoOptions } from './demo-policies';
