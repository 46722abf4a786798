import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { RunsModule } from '../runs/runs.module';
import { TenantsModule } from '../tenants/tenants.module';
import { DriftGenerateHandler } from './drift-generate.handler';
import { DriftController } from './drift.controller';
import { DRIFT_QUEUE } from './drift.queue';
import { DriftService } from './drift.service';

/** Drift landing, findings, and the drift.generate producer. */
@Module({
  imports: [RunsModule, InventoryModule, TenantsModule, BullModule.registerQueue({ name: DRIFT_QUEUE })],
  controllers: [DriftController],
  providers: [DriftService, DriftGenerateHandler],
  exports: [DriftService],
})
export class DriftModule {}
