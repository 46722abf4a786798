/** The inventory module's Bull queue; its job names are the run types it produces. */
export const INVENTORY_QUEUE = 'inventory';
export const INVENTORY_SYNC = 'inventory.sync';
