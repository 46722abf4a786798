/** Probes and Prometheus metrics; listens to run events, nothing depends on it. */
export { HealthModule } from './health.module';
