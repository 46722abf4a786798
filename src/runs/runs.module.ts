import { BullModule } from '@nestjs/bull';
import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MODULE_MIGRATIONS } from '../database/module-migrations';
import { QueueModule } from '../queue';
import { PRODUCER_DECLARATION, ProducerDeclaration } from './producer-declaration';
import { RunActionsService } from './run-actions.service';
import { RunCounters } from './run-counters';
import { RunExecutor } from './run-executor';
import { RunPageCache } from './run-page-cache';
import { MAINTENANCE_QUEUE, RunMaintenance } from './run-maintenance';
import { RunStallService } from './run-stall.service';
import { RunTypeRegistry } from './run-types.registry';
import { RunsQueryService } from './runs-query.service';
import { RunsRepository } from './runs.repository';
import { RunTargetNames } from './run-target-names';
import { RunsService } from './runs.service';
import { RunStarter } from './start-response';

/** What RunsModule.forProducer returns: one per producer module, told apart by its declaration. */
@Module({})
class RunsProducerModule {}

/**
 * The hub. Producers import `RunsModule.forProducer({ queue })` for the lifecycle (RunsService), their
 * queue and the @RunProducer extension point; the monitoring pages read through RunsQueryService. It
 * knows no producer.
 */
@Module({
  imports: [DiscoveryModule, QueueModule, BullModule.registerQueue({ name: MAINTENANCE_QUEUE })],
  providers: [
    RunsRepository,
    RunCounters,
    RunPageCache,
    RunsService,
    RunTypeRegistry,
    RunExecutor,
    RunsQueryService,
    RunActionsService,
    RunMaintenance,
    RunStallService,
    RunStarter,
    RunTargetNames,
  ],
  exports: [RunsService, RunStarter, RunTypeRegistry, RunsQueryService, RunActionsService, RunStallService],
})
export class RunsModule {
  /**
   * A producer module's one import of the hub: it registers the producer's Bull queue (so the queue
   * is named once) and declares its own tables' migrations, which run with the app's.
   */
  static forProducer(declaration: ProducerDeclaration): DynamicModule {
    return {
      module: RunsProducerModule,
      imports: [RunsModule, BullModule.registerQueue({ name: declaration.queue })],
      providers: [
        { provide: PRODUCER_DECLARATION, useValue: declaration },
        { provide: MODULE_MIGRATIONS, useValue: declaration.migrations ?? [] },
      ],
      exports: [RunsModule],
    };
  }
}
