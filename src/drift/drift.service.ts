import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppError } from '../common/app-error';
import { fromDbDate, parseJson } from '../database/sql';
import { InventoryService, POLICY_TYPE_LABELS } from '../inventory/inventory.service';
import { splitRunType } from '../runs/run-status';
import { RunsService, StartRunResult } from '../runs/runs.service';
import type { ChangeType, SettingChange } from './drift-diff';
import { driftScopes, DriftScope } from './drift-scopes';
import { DRIFT_GENERATE } from './drift.queue';

export interface Comparison {
  scope: DriftScope;
  baseline: { id: number; finishedAt: Date | null } | null;
  current: { id: number; finishedAt: Date | null } | null;
}

export interface LatestDriftRun {
  id: number;
  status: string;
  bucket: string;
  finishedAt: Date | null;
  baselineRunId: number;
  currentRunId: number;
}

export interface FindingRow {
  id: number;
  runId: number;
  changeType: ChangeType;
  policyType: string;
  externalId: string;
  displayName: string;
  changes: Array<SettingChange & { label?: string }>;
  createdAt: Date;
}

export interface FindingCounts {
  added: number;
  removed: number;
  modified: number;
}

export const CHANGE_TYPES: ChangeType[] = ['added', 'removed', 'modified'];

/** Drift: which snapshots a scope compares, starting a comparison, and reading its findings. */
@Injectable()
export class DriftService {
  private readonly allScopes = driftScopes(POLICY_TYPE_LABELS);

  constructor(
    private readonly ds: DataSource,
    private readonly inventory: InventoryService,
    private readonly runs: RunsService,
  ) {}

  scopes(): DriftScope[] {
    return this.allScopes;
  }

  scope(key: string): DriftScope {
    const s = this.scopes().find((x) => x.key === key);
    if (!s) throw AppError.badRequest(`Unknown drift scope "${key.slice(0, 40)}".`);
    return s;
  }

  /** Baseline = the previous successful sync covering the scope; current = the latest. Syncs are full, so they cover every scope. */
  async comparison(tenantId: number, scope: DriftScope): Promise<Comparison> {
    const [current, baseline] = await this.inventory.successfulSyncs(tenantId, 2);
    return { scope, baseline: baseline ?? null, current: current ?? null };
  }

  /** Every scope's comparison and latest run, from one read of the syncs and one of the drift runs. */
  async scopeStates(tenantId: number) {
    const [[current, baseline], latest] = await Promise.all([
      this.inventory.successfulSyncs(tenantId, 2),
      this.latestRuns(tenantId),
    ]);
    return this.allScopes.map((scope) => ({
      scope,
      baseline: baseline ?? null,
      current: current ?? null,
      latest: latest.get(scope.key) ?? null,
    }));
  }

  /**
   * Starts drift.generate for a scope, or returns the run already working on this exact comparison.
   * Never waits for the work.
   */
  async startGenerate(tenantId: number, userId: number, scopeKey: string): Promise<StartRunResult> {
    const scope = this.scope(scopeKey);
    const c = await this.comparison(tenantId, scope);
    if (!c.baseline || !c.current) {
      throw AppError.badRequest(
        'Drift needs two successful inventory syncs to compare. Run "Sync now" on the Policies page first.',
      );
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
    });
  }

  async counts(
    tenantId: number,
    scopeKey: string,
    baselineRunId: number,
    currentRunId: number,
  ): Promise<FindingCounts> {
    const raw: Array<{ change_type: ChangeType; n: number | string }> = await this.ds.query(
      `SELECT change_type, COUNT(*) AS n FROM drift_findings
       WHERE tenant_id = ? AND scope_key = ? AND baseline_run_id = ? AND current_run_id = ? GROUP BY change_type`,
      [tenantId, scopeKey, baselineRunId, currentRunId],
    );
    const out: FindingCounts = { added: 0, removed: 0, modified: 0 };
    for (const r of raw) out[r.change_type] = Number(r.n);
    return out;
  }

  /** The latest drift.generate run of a tenant for a scope, if any. */
  async latestRun(tenantId: number, scopeKey: string): Promise<LatestDriftRun | null> {
    return (await this.latestRuns(tenantId)).get(scopeKey) ?? null;
  }

  /** Scope key → the latest drift.generate run for it, among the tenant's last 50. */
  private async latestRuns(tenantId: number): Promise<Map<unknown, LatestDriftRun>> {
    const { resource, action } = splitRunType(DRIFT_GENERATE);
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT id, status, status_bucket, payload, finished_at FROM operation_runs
       WHERE tenant_id = ? AND resource = ? AND action = ? ORDER BY created_at DESC, id DESC LIMIT 50`,
      [tenantId, resource, action],
    );
    const latest = new Map<unknown, LatestDriftRun>();
    for (const r of raw) {
      const payload = parseJson<Record<string, unknown>>(r.payload, {});
      if (latest.has(payload.scope_key)) continue;
      latest.set(payload.scope_key, {
        id: Number(r.id),
        status: String(r.status),
        bucket: String(r.status_bucket),
        finishedAt: fromDbDate(r.finished_at),
        baselineRunId: Number(payload.baseline_run_id),
        currentRunId: Number(payload.current_run_id),
      });
    }
    return latest;
  }

  /** Findings of the comparison a drift run made (re-runs of one comparison share its findings). */
  async findings(
    tenantId: number,
    filter: { scopeKey: string; baselineRunId: number; currentRunId: number; changeType?: ChangeType },
    offset: number,
    limit: number,
  ): Promise<{ rows: FindingRow[]; total: number }> {
    const where = ['tenant_id = ?', 'scope_key = ?', 'baseline_run_id = ?', 'current_run_id = ?'];
    const params: unknown[] = [tenantId, filter.scopeKey, filter.baselineRunId, filter.currentRunId];
    if (filter.changeType) {
      where.push('change_type = ?');
      params.push(filter.changeType);
    }
    const [{ n }] = await this.ds.query(
      `SELECT COUNT(*) AS n FROM drift_findings WHERE ${where.join(' AND ')}`,
      params,
    );
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT id, run_id, change_type, policy_type, external_id, display_name, changes, created_at FROM drift_findings
       WHERE ${where.join(' AND ')} ORDER BY change_type, policy_type, display_name, id LIMIT ${limit} OFFSET ${offset}`,
      params,
    );
    return {
      total: Number(n),
      rows: raw.map((r) => ({
        id: Number(r.id),
        runId: Number(r.run_id),
        changeType: r.change_type as ChangeType,
        policyType: String(r.policy_type),
        externalId: String(r.external_id),
        displayName: String(r.display_name),
        changes: parseJson(r.changes, []),
        createdAt: fromDbDate(r.created_at)!,
      })),
    };
  }
}
