import { Module } from '@nestjs/common';
import { PoliciesModule } from '../policies';
import { RunsModule } from '../runs';
import { TenantsModule } from '../tenants';
import { InventorySyncHandler } from './inventory-sync.handler';
import { InventoryController } from './inventory.controller';
import { INVENTORY_QUEUE } from './inventory.queue';
import { InventoryService } from './inventory.service';

/** The Policies pages and the inventory.sync producer, which writes through the policies module. */
@Module({
  imports: [RunsModule.forProducer({ queue: INVENTORY_QUEUE }), PoliciesModule, TenantsModule],
  controllers: [InventoryController],
  providers: [InventoryService, InventorySyncHandler],
  exports: [InventoryService],
})
export class InventoryModule {}
