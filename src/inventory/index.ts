/** The inventory producer's public face (inventory.sync and the Policies pages). */
export { InventoryModule } from './inventory.module';
export { InventoryService } from './inventory.service';
export { INVENTORY_QUEUE, INVENTORY_SYNC } from './inventory.queue';
