/** The inventory module's Bull queue; its run type writes the snapshots the policies module keeps. */
export const INVENTORY_QUEUE = 'inventory';
export { INVENTORY_SYNC } from '../policies';
