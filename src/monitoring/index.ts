/** Monitoring → Operations pages and the runs API, on the public face of the hub. */
export { MonitoringModule } from './monitoring.module';
