import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { QueueModule } from '../queue/queue.module';
import { RunActionsService } from './run-actions.service';
import { RunCounters } from './run-counters';
import { RunExecutor } from './run-executor';
import { MAINTENANCE_QUEUE, RunMaintenance } from './run-maintenance';
import { RunStallService } from './run-stall.service';
import { RunTypeRegistry } from './run-types.registry';
import { OperationRun } from './run.entity';
import { RunsQueryService } from './runs-query.service';
import { RunsService } from './runs.service';

/**
 * The hub. Producers import this module for the lifecycle (RunsService) and the @RunProducer
 * extension point; the monitoring pages read through RunsQueryService. It knows no producer.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([OperationRun]),
    DiscoveryModule,
    DatabaseModule,
    QueueModule,
    BullModule.registerQueue({ name: MAINTENANCE_QUEUE }),
  ],
  providers: [
    RunCounters,
    RunsService,
    RunTypeRegistry,
    RunExecutor,
    RunsQueryService,
    RunActionsService,
    RunMaintenance,
    RunStallService,
  ],
  exports: [
    RunsService,
    RunTypeRegistry,
    RunsQueryService,
    RunActionsService,
    RunMaintenance,
    RunStallService,
  ],
})
export class RunsModule {}
