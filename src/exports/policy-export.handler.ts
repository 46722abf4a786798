import { Injectable } from '@nestjs/common';
import { PoliciesService } from '../policies';
import { csvLine, ProducerRunContext, RunHandler, RunProducer } from '../runs';

export const POLICY_EXPORT = 'export.policies_csv';

/** One CSV line per policy of the tenant, kept with the run until downloaded (its Related link). */
@RunProducer({
  type: POLICY_EXPORT,
  label: 'Policies CSV export',
  start: { label: 'Export policies as CSV' },
  related: (run) => [{ label: 'Download CSV', href: `/admin/t/${run.tenantSlug}/exports/${run.id}` }],
})
@Injectable()
export class PolicyExportHandler implements RunHandler {
  constructor(private readonly policies: PoliciesService) {}

  async handle(ctx: ProducerRunContext): Promise<void> {
    const ids = await this.policies.ids(ctx.tenantId, { limit: 100_000 });
    await ctx.setTotal(ids.length);
    await ctx.eachBatch(ids, 500, async (batch) => {
      const found = await this.policies.byIds(ctx.tenantId, batch);
      const line = (p: (typeof found)[number]) =>
        csvLine([p.policyType, p.externalId, p.displayName, p.platform]);
      const rows = found.map((p) => ({ run_id: ctx.id, policy_id: p.id, line: line(p) }));
      const counts = { succeeded: found.length, skipped: batch.length - found.length };
      return { counts, write: (tx) => tx.insert('policy_export_rows', rows) };
    });
  }
}
