import { Module } from '@nestjs/common';
import { PoliciesModule } from '../policies';
import { RunsModule } from '../runs';
import { TenantsModule } from '../tenants';
import { DriftGenerateHandler } from './drift-generate.handler';
import { DriftController } from './drift.controller';
import { DRIFT_QUEUE } from './drift.queue';
import { DriftService } from './drift.service';
import { FindingsRepository } from './findings.repository';
import { FindingSortIndexes1765610000000 } from './migrations/1765610000000-finding-sort-indexes';

/** Drift landing, findings, and the drift.generate producer. */
@Module({
  imports: [
    RunsModule.forProducer({ queue: DRIFT_QUEUE, migrations: [FindingSortIndexes1765610000000] }),
    PoliciesModule,
    TenantsModule,
  ],
  controllers: [DriftController],
  providers: [FindingsRepository, DriftService, DriftGenerateHandler],
  exports: [DriftService],
})
export class DriftModule {}
