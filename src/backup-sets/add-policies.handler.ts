import { Injectable } from '@nestjs/common';
import { CapturedPolicy, PoliciesService } from '../policies';
import { ItemName, ItemOutcome, ProducerRunContext, RunHandler, RunLinkContext, RunProducer } from '../runs';
import { TenantsService } from '../tenants';
import { BackupSetsRepository } from './backup-sets.repository';
import { BACKUP_ADD_POLICIES } from './backup-sets.queue';

const BATCH = 500;

class SetGone extends Error {
  readonly reasonCode = 'not_found';
  constructor(when: string) {
    super(`The backup set was deleted ${when}, so no more policies could be added to it.`);
  }
}

/**
 * backup_set.add_policies: captures each selected policy's current payload from the tenant's source.
 * Per item: succeeded (captured), skipped (already in the set) or failed (gone upstream, or the
 * provider's fault). Items are written in batches that commit together with the run's counts, so a
 * job picked up again after its worker died resumes where the last batch ended and captures nothing twice.
 */
@RunProducer({
  type: BACKUP_ADD_POLICIES,
  label: 'Add policies to backup set',
  related: (run) => [
    {
      label: `Backup set “${String(run.payload.backup_set_name ?? run.payload.backup_set_id)}”`,
      href: `/admin/t/${run.tenantSlug}/backup-sets/${Number(run.payload.backup_set_id)}`,
    },
  ],
  describe: (run) => [
    {
      label: 'Backup set',
      value: String(run.payload.backup_set_name ?? `#${Number(run.payload.backup_set_id)}`),
      href: `/admin/t/${run.tenantSlug}/backup-sets/${Number(run.payload.backup_set_id)}`,
    },
    { label: 'Policies selected', value: String(run.payload.selected ?? run.itemIds?.length ?? 0) },
  ],
})
@Injectable()
export class AddPoliciesHandler implements RunHandler {
  constructor(
    private readonly sets: BackupSetsRepository,
    private readonly policies: PoliciesService,
    private readonly tenants: TenantsService,
  ) {}

  /** A failed item is a policy of the tenant's inventory: its name, linked to its page. */
  async itemNames(run: RunLinkContext, itemIds: string[]): Promise<ItemName[]> {
    const ids = itemIds.filter((id) => /^[1-9]\d{0,14}$/.test(id)).map(Number);
    if (run.tenantId === undefined || !ids.length) return [];
    const rows = await this.policies.byIds(run.tenantId, ids);
    return rows.map((p) => ({
      itemId: String(p.id),
      name: p.displayName,
      href: `/admin/t/${run.tenantSlug}/policies/${p.id}`,
    }));
  }

  async handle(ctx: ProducerRunContext): Promise<void> {
    const setId = Number(ctx.payload.backup_set_id);
    const tenant = await this.tenants.requireById(ctx.tenantId);
    if (!(await this.sets.get(tenant.id, setId))) throw new SetGone('before its policies could be added');

    await ctx.eachBatch(ctx.itemIds, BATCH, async (batch) => {
      const policies = new Map(
        (await this.policies.byIds(tenant.id, batch.map(Number))).map((p) => [String(p.id), p]),
      );
      const known = batch.filter((id) => policies.has(id)).map((id) => policies.get(id)!);
      let captured: Array<CapturedPolicy | null> = [];
      let fault: unknown = null;
      try {
        captured = await this.policies.fetchCurrent({ id: tenant.id, slug: tenant.slug }, known);
      } catch (e) {
        // A throttled or unreachable provider is worth another attempt of the whole job, which resumes here.
        if (ctx.isTransient(e)) throw e;
        fault = e;
      }
      const byPolicy = new Map(known.map((p, i) => [String(p.id), captured[i] ?? null]));
      const existing = await this.sets.existingKeys(setId, known);

      const outcomes: ItemOutcome[] = [];
      const toInsert: Array<{ policyId: number; c: CapturedPolicy }> = [];
      for (const id of batch) {
        const policy = policies.get(id);
        if (!policy) {
          outcomes.push({
            itemId: id,
            result: 'failed',
            reasonCode: 'not_found',
            message: `Policy ${id} is no longer in the inventory.`,
          });
        } else if (existing.has(`${policy.policyType}:${policy.externalId}`)) {
          outcomes.push({ itemId: id, result: 'skipped' });
        } else if (fault) {
          outcomes.push({ itemId: id, result: 'failed', error: fault });
        } else if (!byPolicy.get(id)) {
          outcomes.push({
            itemId: id,
            result: 'failed',
            reasonCode: 'not_found',
            message: `“${policy.displayName}” no longer exists upstream (removed since the last sync).`,
          });
        } else {
          outcomes.push({ itemId: id, result: 'succeeded' });
          toInsert.push({ policyId: policy.id, c: byPolicy.get(id)! });
        }
      }

      return {
        outcomes,
        // The set is locked while its items are written: deleted meanwhile, nothing is counted as
        // captured that was not stored (the run fails, not_found), on MySQL as on SQLite.
        write: async (tx) => {
          if (!(await this.sets.lockSet(tx, tenant.id, setId)))
            throw new SetGone('while they were being added');
          if (!toInsert.length) return;
          await this.policies.storePayloads(
            tx,
            tenant.id,
            toInsert.map((x) => x.c),
          );
          await this.sets.addItems(tx, tenant.id, setId, ctx.id, toInsert);
        },
      };
    });
  }
}
