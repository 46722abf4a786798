import { DataSource } from 'typeorm';
import { toDbDate } from '../../src/database/sql';
import { RunStatus, statusBucket } from '../../src/runs/run-status';

export interface RunSeed {
  tenantId: number;
  userId?: number | null;
  type: string;
  status: RunStatus;
  createdAt: Date;
  total?: number;
  succeeded?: number;
  failed?: number;
  skipped?: number;
  payload?: Record<string, unknown>;
}

/**
 * Writes a run row directly, for list and filter tests that need runs in every bucket at chosen
 * times. Lifecycle behaviour is tested through RunsService, not through this.
 */
export async function insertRun(ds: DataSource, s: RunSeed): Promise<number> {
  const mysql = ds.options.type === 'mysql';
  const [resource, action] = s.type.split('.');
  const succeeded = s.succeeded ?? 0;
  const failed = s.failed ?? 0;
  const skipped = s.skipped ?? 0;
  const at = toDbDate(s.createdAt, mysql);
  const row: Record<string, unknown> = {
    tenant_id: s.tenantId,
    user_id: s.userId ?? null,
    resource,
    action,
    status: s.status,
    status_bucket: statusBucket(s.status, failed),
    total_items: s.total ?? succeeded + failed + skipped,
    processed_items: succeeded + failed + skipped,
    succeeded,
    failed,
    skipped,
    payload: JSON.stringify(s.payload ?? {}),
    failures: '[]',
    failures_omitted: 0,
    attempts: 1,
    created_at: at,
    updated_at: at,
    started_at: s.status === 'pending' ? null : at,
    finished_at: ['pending', 'running'].includes(s.status) ? null : at,
  };
  const cols = Object.keys(row);
  const result = await ds.query(
    `INSERT INTO operation_runs (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
    Object.values(row),
  );
  if (mysql) return Number(result.insertId);
  const [{ id }] = await ds.query('SELECT last_insert_rowid() AS id');
  return Number(id);
}
