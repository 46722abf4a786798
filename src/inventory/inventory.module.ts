import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { RunsModule } from '../runs/runs.module';
import { TenantsModule } from '../tenants/tenants.module';
import { DemoPolicySource } from './demo-policy-source';
import { InventorySyncHandler } from './inventory-sync.handler';
import { InventoryController } from './inventory.controller';
import { INVENTORY_QUEUE } from './inventory.queue';
import { InventoryService } from './inventory.service';
import { POLICY_SOURCE } from './policy-source';

/** Policies, snapshots and the policy source; produces inventory.sync runs. */
@Module({
  imports: [RunsModule, TenantsModule, BullModule.registerQueue({ name: INVENTORY_QUEUE })],
  controllers: [InventoryController],
  providers: [
    InventoryService,
    InventorySyncHandler,
    DemoPolicySource,
    // The only source today; a real Graph source would be chosen here from POLICY_SOURCE.
    { provide: POLICY_SOURCE, useExisting: DemoPolicySource },
  ],
  exports: [InventoryService, DemoPolicySource],
})
export class InventoryModule {}
