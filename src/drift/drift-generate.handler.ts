import { Injectable } from '@nestjs/common';
import { PoliciesService } from '../policies';
import { ProducerRunContext, RunHandler, runHref, RunProducer } from '../runs';
import { TenantsService } from '../tenants';
import { diffSnapshots, findingFingerprint, SnapshotItem } from './drift-diff';
import { DRIFT_GENERATE } from './drift.queue';
import { FindingsRepository } from './findings.repository';

/** A comparison that cannot start because a snapshot it names is gone: no retry will help. */
class BaselineMissing extends Error {
  readonly reasonCode = 'baseline_missing';
}

/**
 * drift.generate: compares the baseline snapshot of a scope with the current one. Unchanged policies
 * are recognised by their payload hash alone; only changed pairs load their payloads. Findings carry a
 * fingerprint of the comparison and the change, so running the same comparison again adds nothing.
 */
@RunProducer({
  type: DRIFT_GENERATE,
  label: 'Drift generation',
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
    private readonly policies: PoliciesService,
    private readonly tenants: TenantsService,
    private readonly findingsRepo: FindingsRepository,
  ) {}

  async handle(ctx: ProducerRunContext): Promise<void> {
    const p = ctx.payload;
    const scopeKey = String(p.scope_key);
    const types = (p.policy_types as string[]) ?? [];
    const baselineId = Number(p.baseline_run_id);
    const currentId = Number(p.current_run_id);
    const tenant = await this.tenants.requireById(ctx.tenantId);

    const [baseline, current] = await Promise.all([
      this.policies.snapshot(tenant.id, baselineId, types),
      this.policies.snapshot(tenant.id, currentId, types),
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
    const payloads = await this.policies.payloadsByHash(tenant.id, changedHashes);
    const withPayload = (s: (typeof baseline)[number]): SnapshotItem => ({
      ...s,
      payload: payloads.get(s.payloadHash),
    });
    const { findings, compared } = diffSnapshots(baseline.map(withPayload), current.map(withPayload));
    await ctx.setTotal(compared);

    // Setting names come from the provider (settings-catalog definitions): a provider fault fails the run.
    const paths = [...new Set(findings.flatMap((f) => f.changes.map((c) => c.path)))];
    const labels = await this.policies.settingLabels({ id: tenant.id, slug: tenant.slug }, paths);

    const rows = findings.map((f) => ({
      runId: ctx.id,
      scopeKey,
      baselineRunId: baselineId,
      currentRunId: currentId,
      changeType: f.changeType,
      policyType: f.policyType,
      externalId: f.externalId,
      displayName: f.displayName,
      changes: f.changes.map((c) => ({ ...c, label: labels[c.path] })),
      fingerprint: findingFingerprint(scopeKey, baselineId, currentId, f),
    }));
    // Every compared policy is an item; the findings and the counts commit together.
    const remaining = compared - ctx.alreadyProcessed;
    await ctx.recordCounts({ succeeded: Math.max(0, remaining) }, (tx) =>
      this.findingsRepo.insert(tx, tenant.id, rows),
    );
  }
}
