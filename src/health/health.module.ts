import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { RunsModule } from '../runs';
import { HealthService } from './health.service';
import { MetricsService } from './metrics.service';

/** Probes and metrics; listens to run events, nothing depends on it. */
@Module({
  imports: [RunsModule],
  controllers: [HealthController],
  providers: [HealthService, MetricsService],
})
export class HealthModule {}
