import { Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import { PoliciesService, POLICY_TYPE_LABELS } from '../policies';
import { OperationRun, RunsService, StartRunResult } from '../runs';
import type { ChangeType } from './drift-diff';
import { driftScopes, DriftScope } from './drift-scopes';
import { DRIFT_GENERATE } from './drift.queue';
import { offsetBatches } from '../common/table-params';
import {
  Comparison,
  FindingFilter,
  FindingRow,
  FindingsRepository,
  FindingSortKey,
} from './findings.repository';

export interface LatestDriftRun {
  id: number;
  status: string;
  bucket: string;
  finishedAt: Date | null;
  baselineRunId: number;
  currentRunId: number;
}

export type FindingCounts = Record<ChangeType, number>;
export type { FindingFilter, FindingRow, FindingSortKey };

export const CHANGE_TYPES: ChangeType[] = ['added', 'removed', 'modified'];

/** What a drift.generate run compares, from its payload. */
export function comparisonOf(run: OperationRun): Comparison {
  const p = run.payload ?? {};
  return {
    scopeKey: String(p.scope_key),
    baselineRunId: Number(p.baseline_run_id),
    currentRunId: Number(p.current_run_id),
  };
}

/** Drift: which snapshots a scope compares, starting a comparison, and reading its findings. */
@Injectable()
export class DriftService {
  private readonly allScopes = driftScopes(POLICY_TYPE_LABELS);

  constructor(
    private readonly findingsRepo: FindingsRepository,
    private readonly policies: PoliciesService,
    private readonly runs: RunsService,
  ) {}

  scopes(): DriftScope[] {
    return this.allScopes;
  }

  scope(key: string): DriftScope {
    const s = this.scopes().find((x) => x.key === key);
    if (!s)
      throw AppError.invalid({
        scope: `Unknown drift scope "${key.slice(0, 40)}". Pick one of the scopes below.`,
      });
    return s;
  }

  /** Baseline = the previous successful sync; current = the latest. Syncs are full, so they cover every scope. */
  async comparison(tenantId: number) {
    const [current, baseline] = await this.policies.successfulSyncs(tenantId, 2);
    return { baseline: baseline ?? null, current: current ?? null };
  }

  /** Every scope's comparison and latest run, from one read of the syncs and one of the drift runs. */
  async scopeStates(tenantId: number) {
    const [{ baseline, current }, latest] = await Promise.all([
      this.comparison(tenantId),
      this.latestRuns(tenantId),
    ]);
    return this.allScopes.map((scope) => ({
      scope,
      baseline,
      current,
      latest: latest.get(scope.key) ?? null,
    }));
  }

  /**
   * Starts drift.generate for a scope, or returns the run already working on this exact comparison.
   * Never waits for the work.
   */
  async startGenerate(tenantId: number, userId: number, scopeKey: string): Promise<StartRunResult> {
    const scope = this.scope(scopeKey);
    const c = await this.comparison(tenantId);
    if (!c.baseline || !c.current) {
      throw AppError.invalid({
        scope:
          'Drift needs two successful inventory syncs to compare. Run "Sync now" on the Policies page first.',
      });
    }
    return this.runs.start({
      tenantId,
      userId,
      type: DRIFT_GENERATE,
      payload: {
        scope_key: scope.key,
        scope_name: scope.name,
        policy_types: scope.types,
        baseline_run_id: c.baseline.id,
        current_run_id: c.current.id,
      },
      idempotencyKey: `drift:${scope.key}:${c.baseline.id}:${c.current.id}`,
      subject: `drift_scope:${scope.key}`,
    });
  }

  counts(tenantId: number, c: Comparison): Promise<FindingCounts> {
    return this.findingsRepo.counts(tenantId, c);
  }

  /** The latest drift.generate run of a tenant for a scope, if any. */
  async latestRun(tenantId: number, scopeKey: string): Promise<LatestDriftRun | null> {
    return (await this.latestRuns(tenantId)).get(scopeKey) ?? null;
  }

  /** A drift.generate run of this tenant, or not-found. */
  run(tenantId: number, id: number): Promise<OperationRun> {
    return this.runs.getOfType(tenantId, id, DRIFT_GENERATE);
  }

  /** Scope key → the latest drift.generate run for it, among the tenant's last 50. */
  private async latestRuns(tenantId: number): Promise<Map<string, LatestDriftRun>> {
    const latest = new Map<string, LatestDriftRun>();
    for (const r of await this.runs.latestOfType(tenantId, DRIFT_GENERATE, { limit: 50 })) {
      const c = comparisonOf(r);
      if (latest.has(c.scopeKey)) continue;
      latest.set(c.scopeKey, {
        id: r.id,
        status: r.status,
        bucket: r.statusBucket,
        finishedAt: r.finishedAt,
        baselineRunId: c.baselineRunId,
        currentRunId: c.currentRunId,
      });
    }
    return latest;
  }

  /** Findings of the comparison a drift run made (re-runs of one comparison share its findings). */
  findings(
    tenantId: number,
    filter: FindingFilter,
    offset: number,
    limit: number,
  ): Promise<{ rows: FindingRow[]; total: number }> {
    return this.findingsRepo.page(tenantId, filter, offset, limit);
  }

  /** Every finding of a list, in its order, a batch at a time (for the CSV export). */
  findingBatches(tenantId: number, filter: FindingFilter): AsyncGenerator<FindingRow[]> {
    return offsetBatches((offset, limit) => this.findingsRepo.rows(tenantId, filter, offset, limit));
  }
}
