import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { Dialect } from '../database/dialect';
import { chunks, readDate, readJson, readNum } from '../database/sql';
import type { Tx } from '../runs';
import type { ChangeType, SettingChange } from './drift-diff';

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

/** One comparison: a scope between a baseline and a current snapshot. */
export interface Comparison {
  scopeKey: string;
  baselineRunId: number;
  currentRunId: number;
}

/** The columns the findings list sorts by. */
export const FINDING_SORT_KEYS = ['change', 'name'] as const;
export type FindingSortKey = (typeof FINDING_SORT_KEYS)[number];

/** Which findings of a comparison a list shows: a change type, a policy name search, an order. */
export type FindingFilter = Comparison & {
  changeType?: ChangeType;
  /** Part of the policy's name, any case. */
  search?: string;
  /** By change type (then type and name) when absent. */
  sort?: { by: FindingSortKey; dir: 'asc' | 'desc' };
};

export type NewFinding = Omit<FindingRow, 'id' | 'createdAt'> & Comparison & { fingerprint: string };

const FINDINGS_BATCH = 200;
const COLUMNS = [
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

/** The drift_findings table. Findings carry a fingerprint, so re-running a comparison adds nothing. */
@Injectable()
export class FindingsRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async insert(tx: Tx, tenantId: number, findings: NewFinding[]): Promise<void> {
    const at = this.dialect.date(new Date());
    for (const part of chunks(findings, FINDINGS_BATCH)) {
      const s = this.dialect.insertIgnore(
        'drift_findings',
        COLUMNS,
        part.map((f) => [
          tenantId,
          f.runId,
          f.scopeKey,
          f.baselineRunId,
          f.currentRunId,
          f.changeType,
          f.policyType,
          f.externalId,
          f.displayName.slice(0, 255),
          JSON.stringify(f.changes),
          f.fingerprint,
          at,
        ]),
      );
      await tx.exec(s.sql, s.params);
    }
  }

  async counts(tenantId: number, c: Comparison): Promise<Record<ChangeType, number>> {
    const rows = await this.db.query<{ change_type: ChangeType; n: number | string }>(
      `SELECT change_type, COUNT(*) AS n FROM drift_findings
       WHERE tenant_id = ? AND scope_key = ? AND baseline_run_id = ? AND current_run_id = ? GROUP BY change_type`,
      [tenantId, c.scopeKey, c.baselineRunId, c.currentRunId],
    );
    const out: Record<ChangeType, number> = { added: 0, removed: 0, modified: 0 };
    for (const r of rows) out[r.change_type] = readNum(r.n);
    return out;
  }

  /** Findings of a comparison, by change type unless sorted by policy name, and how many match. */
  async page(
    tenantId: number,
    f: FindingFilter,
    offset: number,
    limit: number,
  ): Promise<{ rows: FindingRow[]; total: number }> {
    const q = this.where(tenantId, f);
    const [count, rows] = await Promise.all([
      this.db.query(`SELECT COUNT(*) AS n FROM drift_findings WHERE ${q.where}`, q.params),
      this.rows(tenantId, f, offset, limit),
    ]);
    return { total: readNum(count[0].n), rows };
  }

  /**
   * A page of findings. The ORDER BY comes from a whitelist and ends in the id, so offset pages never
   * repeat or skip a row; each sort walks an index of the comparison (ix_findings_comparison_change,
   * ix_findings_comparison_name).
   */
  async rows(tenantId: number, f: FindingFilter, offset: number, limit: number): Promise<FindingRow[]> {
    const q = this.where(tenantId, f);
    const d = f.sort?.dir === 'desc' ? ' DESC' : '';
    const columns =
      f.sort?.by === 'name' ? ['display_name', 'id'] : ['change_type', 'policy_type', 'display_name', 'id'];
    const rows = await this.db.query(
      `SELECT id, run_id, change_type, policy_type, external_id, display_name, changes, created_at FROM drift_findings
       WHERE ${q.where} ORDER BY ${columns.map((c) => c + d).join(', ')} LIMIT ${Math.trunc(limit)} OFFSET ${Math.trunc(offset)}`,
      q.params,
    );
    return rows.map((r) => ({
      id: readNum(r.id),
      runId: readNum(r.run_id),
      changeType: r.change_type as ChangeType,
      policyType: String(r.policy_type),
      externalId: String(r.external_id),
      displayName: String(r.display_name),
      changes: readJson(r.changes, []),
      createdAt: readDate(r.created_at)!,
    }));
  }

  private where(tenantId: number, f: FindingFilter) {
    const where = ['tenant_id = ?', 'scope_key = ?', 'baseline_run_id = ?', 'current_run_id = ?'];
    const params: unknown[] = [tenantId, f.scopeKey, f.baselineRunId, f.currentRunId];
    if (f.changeType) {
      where.push('change_type = ?');
      params.push(f.changeType);
    }
    if (f.search) {
      const like = this.dialect.contains('display_name', f.search);
      where.push(like.sql);
      params.push(like.param);
    }
    return { where: where.join(' AND '), params };
  }
}
