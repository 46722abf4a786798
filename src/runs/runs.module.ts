import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { QueueModule } from '../queue/queue.module';
import { RunExecutor } from './run-executor';
import { RunTypeRegistry } from './run-types.registry';
import { OperationRun } from './run.entity';
import { RunsQueryService } from './runs-query.service';
import { RunsService } from './runs.service';

/**
 * The hub. Producers import this module for the lifecycle (RunsService) and the @RunProducer
 * extension point; the monitoring pages read through RunsQueryService. It knows no producer.
 */
@Module({
  imports: [TypeOrmModule.forFeature([OperationRun]), DiscoveryModule, DatabaseModule, QueueModule],
  providers: [RunsService, RunTypeRegistry, RunExecutor, RunsQueryService],
  exports: [RunsService, RunTypeRegistry, RunsQueryService],
})
export class RunsModule {}
