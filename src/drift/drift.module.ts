import { Module } from '@nestjs/common';
import { PoliciesModule } from '../policies';
import { RunsModule } from '../runs';
import { TenantsModule } from '../tenants';
import { DriftGenerateHandler } from './drift-generate.handler';
import { DriftController } from './drift.controller';
import { DRIFT_QUEUE } from './drift.queue';
import { DriftService } from './drift.service';
import { FindingsRepository } from './findings.repository';

/** Drift landing, findings, and the drift.generate producer. */
@Module({
  imports: [RunsModule.forProducer({ queue: DRIFT_QUEUE }), PoliciesModule, TenantsModule],
  controllers: [DriftController],
  providers: [FindingsRepository, DriftService, DriftGenerateHandler],
  exports: [DriftService],
})
export class DriftModule {}
