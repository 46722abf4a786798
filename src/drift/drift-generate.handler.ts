import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { chunks, insertIgnore, toDbDate } from '../database/sql';
import { InventoryService } from '../inventory/inventory.service';
import { RunContext } from '../runs/run-context';
import { runHref } from '../runs/run-status';
import { RunHandler, RunProducer } from '../runs/run-types.registry';
import { TenantsService } from '../tenants/tenants.service';
import { diffSnapshots, findingFingerprint, SnapshotItem } from './drift-diff';
import { DRIFT_GENERATE, DRIFT_QUEUE } from './drift.queue';

/** A comparison that cannot start because a snapshot it names is gone: no retry will help. */
class BaselineMissing extends Error {
  readonly reasonCode = 'baseline_missing';
}

const FINDINGS_BATCH = 200;

/**
 * drift.generate: compares the baseline snapshot of a scope with the current one. Unchanged policies
 * are recognised by their payload hash alone; only changed pairs load their payloads. Findings carry a
 * fingerprint of the comparison and the change, so running the same comparison again adds nothing.
 */
@RunProducer({
  type: DRIFT_GENERATE,
  label: 'Drift generation',
  queue: DRIFT_QUEUE,
  related: (run) => [
    {
      label: 'Drift findings',
      href: `/admin/t/${run.tenantSlug}/drift/findings?run=${run.id}`,
      description: 'What this comparison found',
    },
    {
      label: 'Baseline snapshot',
      href: runHref(run.tenantSlug, Number(run.payload.baseline_run_id)),
    },
    {
      label: 'Current snapshot',
      href: runHref(run.tenantSlug, Number(run.payload.current_run_id)),
    },
  ],
  describe: (run) => [
    { label: 'Scope', value: `${String(run.payload.scope_name ?? '')} (${String(run.payload.scope_key)})` },
    {
      label: 'Baseline',
      value: `inventory sync #${Number(run.payload.baseline_run_id)}`,
      href: runHref(run.tenantSlug, Number(run.payload.baseline_run_id)),
    },
    {
      label: 'Current',
      value: `inventory sync #${Number(run.payload.current_run_id)}`,
      href: runHref(run.tenantSlug, Number(run.payload.current_run_id)),
    },
  ],
})
@Injectable()
export class DriftGenerateHandler implements RunHandler {
  constructor(
    private readonly inventory: InventoryService,
    private readonly tenants: TenantsService,
    @Inject(DataSource) private readonly ds: DataSource,
  ) {}

  async handle(ctx: RunContext): Promise<void> {
    const p = ctx.payload;
    const scopeKey = String(p.scope_key);
    const types = (p.policy_types as string[]) ?? [];
    const baselineId = Number(p.baseline_run_id);
    const currentId = Number(p.current_run_id);
    const tenant = await this.tenants.requireById(ctx.tenantId);

    const [baseline, current] = await Promise.all([
      this.inventory.snapshot(tenant.id, baselineId, types),
      this.inventory.snapshot(tenant.id, currentId, types),
    ]);
    if (!current.length)
      throw new BaselineMissing(
        `The current snapshot (sync #${currentId}) holds no policies for this scope.`,
      );
    if (!baseline.length)
      throw new BaselineMissing(`The baseline snapshot (sync #${baselineId}) is no longer available.`);

    // Payloads only for pairs whose content changed.
    const before = new Map(baseline.map((b) => [`${b.policyType}:${b.externalId}`, b]));
    const changedHashes: string[] = [];
    for (const c of current) {
      const b = before.get(`${c.policyType}:${c.externalId}`);
      if (b && b.payloadHash !== c.payloadHash) changedHashes.push(b.payloadHash, c.payloadHash);
    }
    const payloads = await this.inventory.payloadsByHash(tenant.id, changedHashes);
    const withPayload = (s: (typeof baseline)[number]): SnapshotItem => ({
      ...s,
      payload: payloads.get(s.payloadHash),
    });
    const { findings, compared } = diffSnapshots(baseline.map(withPayload), current.map(withPayload));
    await ctx.setTotal(compared);

    // Setting names come from the provider (settings-catalog definitions): a provider fault fails the run.
    const paths = [...new Set(findings.flatMap((f) => f.changes.map((c) => c.path)))];
    const labels = await this.inventory.settingLabels({ id: tenant.id, slug: tenant.slug }, paths);

    const mysql = this.ds.options.type === 'mysql';
    const at = toDbDate(new Date(), mysql);
    const rows = findings.map((f) => [
      tenant.id,
      ctx.id,
      scopeKey,
      baselineId,
      currentId,
      f.changeType,
      f.policyType,
      f.externalId,
      f.displayName.slice(0, 255),
      JSON.stringify(f.changes.map((c) => ({ ...c, label: labels[c.path] }))),
      findingFingerprint(scopeKey, baselineId, currentId, f),
      at,
    ]);
    const cols = [
      'tenant_id',
      'run_id',
      'scope_key',
      'baseline_run_id',
      'current_run_id',
      'change_type',
      'policy_type',
      'external_id',
      'display_name',
      'changes',
      'fingerprint',
      'created_at',
    ];
    // Every compared policy is an item; the findings and the counts commit together.
    const remaining = compared - ctx.alreadyProcessed;
    await ctx.recordCounts({ succeeded: Math.max(0, remaining) }, async (em) => {
      for (const part of chunks(rows, FINDINGS_BATCH))
        await insertIgnore(em, mysql, 'drift_findings', cols, part);
    });
  }
}
