/** The demo: seed data, the synthetic `demo` policy source and its settings page. */
export { DemoModule } from './demo.module';
export { DEMO_TENANTS, DEMO_USERS } from './demo-seed.service';
export { DemoPolicySource, DemoSourceModule, FAULT_OPERATIONS } from './source';
export type { DemoState, FaultOperation } from './source';
export { demoChanges, demoPolicies } from './demo-policies';
