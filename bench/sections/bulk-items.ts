import { BackupSetsService } from '../../src/backup-sets/backup-sets.service';
import { DemoPolicySource } from '../../src/demo';
import { InventoryService } from '../../src/inventory/inventory.service';
import { TenantsService } from '../../src/tenants/tenants.service';
import { BenchContext, Figure, judge } from '../context';
import { timed } from '../measure';
import type { RunEventMap } from '../../src/runs/run-events';
import { fmt } from '../stats';

export interface BulkResults {
  items: number;
  ms: number;
  perSecond: number;
  statementsPerItem: number;
  questionsPerItem: number;
  syncMs: number;
  outcome: string;
  figures: Figure[];
}

/**
 * backup_set.add_policies over a whole tenant: the policies come from a real inventory sync of a
 * demo tenant of that size, the run goes through the app's own start (validation included) and worker.
 */
export async function runBulkItemsSection(ctx: BenchContext): Promise<BulkResults> {
  const n = ctx.sizes.bulkPolicies;
  const tenants = ctx.app.get<TenantsService>(TenantsService);
  const tenant = await tenants.create(
    { slug: 'bench-bulk', name: 'Bench bulk items', microsoftTenantId: null, notes: null },
    { id: ctx.benchUserId },
  );

  ctx.log(`inventory sync of a ${n.toLocaleString('en-US')}-policy demo tenant…`);
  await ctx.app.get<DemoPolicySource>(DemoPolicySource).setSize(tenant.id, n);
  const t0 = Date.now();
  const { run: sync } = await ctx.app
    .get<InventoryService>(InventoryService)
    .startSync(tenant.id, ctx.benchUserId);
  const synced = await ctx.app.finished(sync.id);
  if (synced.bucket !== 'succeeded') throw new Error(`the inventory sync ended ${synced.status}`);
  const syncMs = Date.now() - t0;

  const sets = ctx.app.get<BackupSetsService>(BackupSetsService);
  const setId = await sets.create(tenant.id, ctx.benchUserId, 'Bench full backup', null);
  const ids = (
    await ctx.app.ds.query('SELECT id FROM policies WHERE tenant_id = ? AND removed_at IS NULL ORDER BY id', [
      tenant.id,
    ])
  )
    .map((r: { id: number }) => Number(r.id))
    .slice(0, n);

  ctx.log(`add_policies over ${ids.length.toLocaleString('en-US')} policies…`);
  const items = ids.length;
  let result!: RunEventMap['run.finished']['run'];
  const tp = await timed(ctx, items, async () => {
    const { run } = await sets.startAddPolicies(tenant.id, ctx.benchUserId, setId, ids);
    result = await ctx.app.finished(run.id);
  });
  const ms = tp.ms;
  const out: BulkResults = {
    items,
    ms,
    perSecond: tp.perSecond,
    statementsPerItem: tp.statementsPer,
    questionsPerItem: tp.questionsPer,
    syncMs,
    outcome: `${result.status}: ${result.succeeded} captured, ${result.skipped} skipped, ${result.failed} failed`,
    figures: [],
  };
  // The demo upstream is a generation ahead of the last sync, so a few policies are gone: those fail
  // as not_found, which is the producer doing its job. Every item must have an outcome.
  if (result.succeeded + result.failed + result.skipped !== items || result.bucket === 'failed')
    throw new Error(`add_policies ended ${out.outcome}`);
  const section = '3. Bulk items';
  out.figures = [
    {
      section,
      name: `backup_set.add_policies over ${items.toLocaleString('en-US')} policies: items/s`,
      value: `${fmt(out.perSecond)} items/s (${fmt(ms / 1000)} s)`,
      target: '≥ 2,000 items/s',
      ...judge(out.perSecond, 'min', 2000),
    },
    {
      section,
      name: 'SQL statements per item (this process; server Questions)',
      value: `${out.statementsPerItem.toFixed(4)} (${out.questionsPerItem.toFixed(4)})`,
      target: '≤ 0.1',
      ...judge(out.statementsPerItem, 'max', 0.1),
    },
  ];
  ctx.log(`  ${fmt(out.perSecond)} items/s, ${out.statementsPerItem.toFixed(4)} statements/item`);
  return out;
}
