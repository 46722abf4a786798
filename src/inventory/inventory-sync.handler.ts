import { Injectable } from '@nestjs/common';
import { chunks } from '../database/sql';
import { RunContext } from '../runs/run-context';
import { RunHandler, RunProducer } from '../runs/run-types.registry';
import { TenantsService } from '../tenants/tenants.service';
import { INVENTORY_QUEUE, INVENTORY_SYNC } from './inventory.queue';
import { InventoryService } from './inventory.service';

const BATCH = 250;

/**
 * inventory.sync: pulls every policy from the tenant's source into a new snapshot. Each batch of
 * policies and its counts commit together, so a retried job resumes after the last committed batch.
 */
@RunProducer({
  type: INVENTORY_SYNC,
  label: 'Inventory sync',
  queue: INVENTORY_QUEUE,
  related: (run) => [
    {
      label: 'Policies captured',
      href: `/admin/t/${run.tenantSlug}/policies?sync=${run.id}`,
      description: 'The snapshot this sync took',
    },
    {
      label: 'Drift',
      href: `/admin/t/${run.tenantSlug}/drift`,
      description: 'Compare this snapshot with the previous one',
    },
  ],
  describe: (run) => [{ label: 'Policy source', value: String(run.payload.source ?? 'demo') }],
})
@Injectable()
export class InventorySyncHandler implements RunHandler {
  constructor(
    private readonly inventory: InventoryService,
    private readonly tenants: TenantsService,
  ) {}

  async handle(ctx: RunContext): Promise<void> {
    const tenant = await this.tenants.requireById(ctx.tenantId);
    const policies = await this.inventory.listUpstream({ id: tenant.id, slug: tenant.slug });
    await ctx.setTotal(policies.length);
    for (const batch of chunks(policies.slice(ctx.alreadyProcessed), BATCH)) {
      await ctx.recordCounts({ succeeded: batch.length }, (em) =>
        this.inventory.writeSyncBatch(em, tenant.id, ctx.id, batch),
      );
    }
    await ctx.recordCounts({}, (em) => this.inventory.markUnseenRemoved(em, tenant.id, ctx.id));
    await this.inventory.afterSync({ id: tenant.id, slug: tenant.slug });
  }
}
