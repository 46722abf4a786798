/** Probes and Prometheus metrics (mounted by configureApp); listens to run events. */
export { HealthModule } from './health.module';
export { Probes } from './probes';
