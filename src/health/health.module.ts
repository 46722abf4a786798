import { Module } from '@nestjs/common';
import { RunsModule } from '../runs';
import { HealthService } from './health.service';
import { MetricsService } from './metrics.service';
import { Probes } from './probes';

/** Probes and metrics, answered by plain Express routes that configureApp mounts (Probes); listens to run events. */
@Module({
  imports: [RunsModule],
  providers: [HealthService, MetricsService, Probes],
  exports: [Probes],
})
export class HealthModule {}
