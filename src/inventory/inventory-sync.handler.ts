import { Injectable } from '@nestjs/common';
import { PoliciesService, ProviderError, SourcePolicy } from '../policies';
import { ProducerRunContext, RunHandler, RunProducer, StartRequest } from '../runs';
import { TenantsService } from '../tenants';
import { INVENTORY_SYNC } from './inventory.queue';

const BATCH = 250;

/**
 * inventory.sync: pulls every policy from the tenant's source into a new snapshot. Each batch of
 * policies and its counts commit together, so a retried job resumes after the last committed batch.
 * A policy type the source could not read is one failure of the run (partial), and its policies are
 * left as they were rather than marked removed.
 */
@RunProducer({
  type: INVENTORY_SYNC,
  label: 'Inventory sync',
  start: { label: 'Sync inventory now' },
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
    private readonly policies: PoliciesService,
    private readonly tenants: TenantsService,
  ) {}

  /** Started from the start menu as from the Policies page: one sync at a time per tenant. */
  async prepare(tenant: { id: number }): Promise<StartRequest> {
    return {
      idempotencyKey: INVENTORY_SYNC,
      payload: { source: await this.policies.sourceNameOf(tenant.id) },
    };
  }

  async handle(ctx: ProducerRunContext): Promise<void> {
    const tenant = await this.tenants.requireById(ctx.tenantId);
    const source = { id: tenant.id, slug: tenant.slug };
    const listing = await this.policies.listUpstream(source);
    const read: SourcePolicy[] = [];
    const unread: Array<{ policyType: string; error: ProviderError }> = [];
    for (const entry of listing) {
      if ('error' in entry) unread.push(entry);
      else read.push(...entry.policies);
    }
    // Nothing at all could be read: the run fails whole, with the source's reason.
    if (!read.length && unread.length) throw unread[0].error;
    await ctx.setTotal(read.length + unread.length);
    await ctx.eachBatch(read, BATCH, async (batch) => ({
      counts: { succeeded: batch.length },
      write: (tx) => this.policies.writeSyncBatch(tx, tenant.id, ctx.id, batch),
    }));
    // On a resumed run the types already recorded as unread are not recorded twice.
    const pending = unread.slice(Math.max(0, ctx.alreadyProcessed - read.length));
    await ctx.record(
      pending.map((u) => ({
        itemId: `type:${u.policyType}`,
        result: 'failed' as const,
        reasonCode: u.error.reasonCode,
        message: u.error.message,
      })),
      (tx) =>
        this.policies.markUnseenRemoved(
          tx,
          tenant.id,
          ctx.id,
          unread.map((u) => u.policyType),
        ),
    );
    await this.policies.afterSync(source);
  }
}
