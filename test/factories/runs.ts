import { DataSource } from 'typeorm';
import { OperationRun, RunStatus } from '../../src/runs';
import { statusBucket } from '../../src/runs/run-status';
import { RUN_COLUMNS, toRun } from '../../src/runs/run.mapper';

/** A date as the test's database stores it (the Dialect's rule, for tests that write rows directly). */
export function toDbDate(d: Date, mysql: boolean): Date | string {
  return mysql ? d : d.toISOString().replace('T', ' ').replace('Z', '');
}

type RunWhere = Partial<
  Pick<OperationRun, 'id' | 'tenantId' | 'status' | 'statusBucket' | 'parentRunId' | 'idempotencyKey'>
>;
const COLUMN: Record<keyof RunWhere, string> = {
  id: 'id',
  tenantId: 'tenant_id',
  status: 'status',
  statusBucket: 'status_bucket',
  parentRunId: 'parent_run_id',
  idempotencyKey: 'idempotency_key',
};

/**
 * The runs table read directly, for assertions about what is stored (the app reads it only through
 * the runs module): count, find, findOneBy.
 */
export function runsTable(ds: DataSource) {
  const where = (w: RunWhere = {}) => {
    const keys = Object.keys(w) as Array<keyof RunWhere>;
    return {
      sql: keys.length ? ` WHERE ${keys.map((k) => `${COLUMN[k]} = ?`).join(' AND ')}` : '',
      params: keys.map((k) => w[k]),
    };
  };
  const find = async (opts: { where?: RunWhere } = {}): Promise<OperationRun[]> => {
    const w = where(opts.where);
    const rows = await ds.query(
      `SELECT ${RUN_COLUMNS.join(', ')} FROM operation_runs${w.sql} ORDER BY id`,
      w.params,
    );
    return rows.map(toRun);
  };
  return {
    find,
    count: async (opts: { where?: RunWhere } = {}) => {
      const w = where(opts.where);
      return Number((await ds.query(`SELECT COUNT(*) AS n FROM operation_runs${w.sql}`, w.params))[0].n);
    },
    findOneBy: async (w: RunWhere) => (await find({ where: w }))[0] ?? null,
    findOneByOrFail: async (w: RunWhere) => {
      const run = (await find({ where: w }))[0];
      if (!run) throw new Error(`no run where ${JSON.stringify(w)}`);
      return run;
    },
  };
}

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
  // One statement with its own insert id: SELECT last_insert_rowid() after it could read another
  // insert's when several run at once.
  const qr = ds.createQueryRunner();
  try {
    const result = await qr.query(
      `INSERT INTO operation_runs (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
      Object.values(row),
      true,
    );
    return Number(mysql ? result.raw.insertId : result.raw);
  } finally {
    await qr.release();
  }
}
