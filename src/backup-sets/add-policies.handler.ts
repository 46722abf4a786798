import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { chunks, insertIgnore, toDbDate } from '../database/sql';
import { CapturedPolicy, InventoryService } from '../inventory/inventory.service';
import { classifyError, ReasonCode } from '../runs/failure-sanitizer';
import { ItemOutcome, RunContext } from '../runs/run-context';
import { RunHandler, RunProducer } from '../runs/run-types.registry';
import { TenantsService } from '../tenants/tenants.service';
import { BackupSetsService } from './backup-sets.service';
import { BACKUP_ADD_POLICIES, BACKUP_QUEUE } from './backup-sets.queue';

const BATCH = 500;

class SetGone extends Error {
  readonly reasonCode = 'not_found';
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
  queue: BACKUP_QUEUE,
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
    private readonly sets: BackupSetsService,
    private readonly inventory: InventoryService,
    private readonly tenants: TenantsService,
    private readonly ds: DataSource,
  ) {}

  async handle(ctx: RunContext): Promise<void> {
    const setId = Number(ctx.payload.backup_set_id);
    const tenant = await this.tenants.requireById(ctx.tenantId);
    if (!(await this.sets.setExists(tenant.id, setId)))
      throw new SetGone('The backup set was deleted before its policies could be added.');
    const mysql = this.ds.options.type === 'mysql';

    for (const batch of chunks(ctx.itemIds.slice(ctx.alreadyProcessed), BATCH)) {
      const policies = new Map(
        (await this.inventory.policiesByIds(tenant.id, batch.map(Number))).map((p) => [String(p.id), p]),
      );
      const known = batch.filter((id) => policies.has(id)).map((id) => policies.get(id)!);
      let captured: Array<CapturedPolicy | null> = [];
      let fault: { error: unknown; reason: ReasonCode } | null = null;
      try {
        captured = await this.inventory.fetchCurrent({ id: tenant.id, slug: tenant.slug }, known);
      } catch (e) {
        const reason = classifyError(e);
        // A throttled or unreachable provider is worth another attempt of the whole job, which resumes here.
        if (ctx.willRetry(reason)) throw e;
        fault = { error: e, reason };
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
          outcomes.push({ itemId: id, result: 'failed', reasonCode: fault.reason, error: fault.error });
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

      await ctx.record(outcomes, async (em) => {
        if (!toInsert.length) return;
        await this.inventory.storePayloads(
          em,
          tenant.id,
          toInsert.map((x) => x.c),
        );
        const at = toDbDate(new Date(), mysql);
        await insertIgnore(
          em,
          mysql,
          'backup_items',
          [
            'backup_set_id',
            'tenant_id',
            'policy_id',
            'policy_type',
            'external_id',
            'display_name',
            'payload_hash',
            'run_id',
            'captured_at',
          ],
          toInsert.map(({ policyId, c }) => [
            setId,
            tenant.id,
            policyId,
            c.policyType,
            c.externalId,
            c.displayName.slice(0, 255),
            c.hash,
            ctx.id,
            at,
          ]),
        );
        await em.query(
          'UPDATE backup_sets SET item_count = (SELECT COUNT(*) FROM backup_items WHERE backup_set_id = ?), updated_at = ? WHERE id = ?',
          [setId, at, setId],
        );
      });
    }
  }
}
