import type { Connection } from 'mysql2/promise';
import mysql from 'mysql2';
import { unit } from './stats';

/**
 * Seeds operation runs straight into MySQL with multi-row INSERTs, fast enough for a million rows in
 * well under a minute per 100 k, and keeps run_daily_counts consistent with them.
 *
 * The full history (maxRows runs over 90 days) is fixed up front: row i always has the same tenant,
 * type, outcome and time, and its id is idBase + i, so ids grow with created_at. A smaller scale is
 * every k-th row of it, and growing to the next scale inserts the rows in between — the 100 k table
 * is the 10 k table plus 90 k rows, and the distribution is the same at every scale.
 */

export interface SeedTenant {
  id: number;
  slug: string;
}

export interface SeedPlan {
  maxRows: number;
  /** tenants[0] is the busy one: a fifth of all runs. */
  tenants: SeedTenant[];
  /** Initiators; a third of runs are system runs with no user. */
  userIds: number[];
  /** The newest run's time (ms); the oldest is 90 days before it. */
  anchor: number;
  idBase: number;
}

const DAY = 86_400_000;
const SPAN = 90 * DAY;
const ROWS_PER_INSERT = 2000;
const ROWS_PER_TRANSACTION = 20_000;

const POLICY_TYPES = [
  'appProtection',
  'compliancePolicy',
  'deviceConfiguration',
  'endpointSecurity',
  'settingsCatalog',
];
const FAILURES: Array<[string, string]> = [
  ['provider_throttled', 'Graph returned 429 Too Many Requests for GET [redacted] (Retry-After: 30)'],
  [
    'permission_denied',
    'Graph returned 403 Forbidden: the app registration lacks DeviceManagementConfiguration.Read.All',
  ],
  [
    'provider_unavailable',
    'Graph returned 503 Service Unavailable; the service is temporarily unable to handle the request',
  ],
  ['timeout', 'The provider did not answer within 30 seconds.'],
  ['worker_lost', 'The worker processing this run stopped responding and the job was given up.'],
];

const COLUMNS = [
  'id',
  'tenant_id',
  'user_id',
  'resource',
  'action',
  'status',
  'status_bucket',
  'total_items',
  'processed_items',
  'succeeded',
  'failed',
  'skipped',
  'item_ids',
  'payload',
  'failures',
  'failures_omitted',
  'idempotency_key',
  'active_key',
  'job_id',
  'attempts',
  'parent_run_id',
  'created_at',
  'started_at',
  'finished_at',
  'updated_at',
];

function dbDate(ms: number): string {
  return `'${new Date(ms).toISOString().slice(0, 23).replace('T', ' ')}'`;
}

const q = (v: string | null) => (v === null ? 'NULL' : mysql.escape(v));

export class RunSeeder {
  /** Every step-th row of the history is in the table. */
  private step = 0;

  constructor(
    private readonly conn: Connection,
    private readonly plan: SeedPlan,
  ) {}

  get rows(): number {
    return this.step ? Math.floor((this.plan.maxRows - 1) / this.step) + 1 : 0;
  }

  /** Rows of the busy tenant at the current scale (what its list pages walk). */
  async busyTenantRows(): Promise<number> {
    const [rows] = await this.conn.query('SELECT COUNT(*) AS n FROM operation_runs WHERE tenant_id = ?', [
      this.plan.tenants[0].id,
    ]);
    return Number((rows as Array<{ n: number }>)[0].n);
  }

  /** Grows the table to `target` runs (a divisor scale of maxRows) and refreshes the counters. */
  async growTo(target: number): Promise<{ inserted: number; ms: number }> {
    const step = this.plan.maxRows / target;
    if (!Number.isInteger(step) || (this.step && this.step % step !== 0))
      throw new Error(`cannot grow from every ${this.step}th row to ${target} rows of ${this.plan.maxRows}`);
    const prev = this.step;
    const t0 = Date.now();
    await this.conn.query('SET SESSION unique_checks = 0');
    let batch: string[] = [];
    let inTx = 0;
    let inserted = 0;
    const flush = async () => {
      if (!batch.length) return;
      if (inTx === 0) await this.conn.query('START TRANSACTION');
      await this.conn.query(`INSERT INTO operation_runs (${COLUMNS.join(', ')}) VALUES ${batch.join(',')}`);
      inTx += batch.length;
      inserted += batch.length;
      batch = [];
      if (inTx >= ROWS_PER_TRANSACTION) {
        await this.conn.query('COMMIT');
        inTx = 0;
      }
    };
    for (let i = 0; i < this.plan.maxRows; i += step) {
      if (prev && i % prev === 0) continue;
      batch.push(this.rowSql(i));
      if (batch.length >= ROWS_PER_INSERT) await flush();
    }
    await flush();
    if (inTx) await this.conn.query('COMMIT');
    await this.conn.query('SET SESSION unique_checks = 1');
    this.step = step;
    await this.refreshCounters();
    return { inserted, ms: Date.now() - t0 };
  }

  /** run_daily_counts exactly as the lifecycle would have left them for these runs. */
  private async refreshCounters(): Promise<void> {
    const ids = this.plan.tenants.map((t) => t.id);
    const inList = ids.map(() => '?').join(', ');
    await this.conn.query('START TRANSACTION');
    await this.conn.query(`DELETE FROM run_daily_counts WHERE tenant_id IN (${inList})`, ids);
    await this.conn.query(
      // As the lifecycle leaves them: active runs count as "queued" until they end.
      `INSERT INTO run_daily_counts (tenant_id, day, resource, action, bucket, n)
       SELECT tenant_id, DATE_FORMAT(created_at, '%Y-%m-%d'), resource, action,
              IF(status_bucket = 'running', 'queued', status_bucket), COUNT(*)
       FROM operation_runs WHERE tenant_id IN (${inList})
       GROUP BY tenant_id, DATE_FORMAT(created_at, '%Y-%m-%d'), resource, action,
                IF(status_bucket = 'running', 'queued', status_bucket)`,
      ids,
    );
    await this.conn.query('COMMIT');
  }

  /** The deterministic run at position i of the history, as a VALUES tuple. */
  private rowSql(i: number): string {
    const p = this.plan;
    const id = p.idBase + i;
    const created = Math.floor(p.anchor - SPAN + ((i + 0.1 + 0.8 * unit(i, 1)) / p.maxRows) * SPAN);

    const ut = unit(i, 2);
    const type = ut < 0.45 ? 'inventory.sync' : ut < 0.75 ? 'drift.generate' : 'backup_set.add_policies';
    const [resource, action] = type.split('.');
    const uTenant = unit(i, 4);
    const tenant =
      uTenant < 0.2
        ? p.tenants[0]
        : p.tenants[1 + Math.floor(((uTenant - 0.2) / 0.8) * (p.tenants.length - 1))];
    const uUser = unit(i, 5);
    const userId = uUser < 0.33 ? null : p.userIds[Math.floor(((uUser - 0.33) / 0.67) * p.userIds.length)];

    // Every seeded run has ended: an active run without a Bull job is what the reconciler repairs, and
    // it would start real work on these rows in the middle of the measurements.
    const uo = unit(i, 3);
    let bucket: string;
    if (type === 'backup_set.add_policies')
      bucket = uo < 0.78 ? 'succeeded' : uo < 0.93 ? 'partial' : 'failed';
    else if (type === 'drift.generate') bucket = uo < 0.9 ? 'succeeded' : 'failed';
    else bucket = uo < 0.92 ? 'succeeded' : uo < 0.94 ? 'partial' : 'failed';

    const uSize = unit(i, 6);
    const total =
      type === 'inventory.sync'
        ? 250 + Math.floor(uSize * 150)
        : type === 'drift.generate'
          ? 300 + Math.floor(uSize * 60)
          : 1 + Math.floor(uSize * 40);
    // One failed item out of one is a failed run, not a partial one.
    if (bucket === 'partial' && total < 2) bucket = 'succeeded';
    let processed = total;
    let failed = 0;
    let skipped = 0;
    const failures: object[] = [];
    let status: string;
    const startedAt = created + 200 + Math.floor(unit(i, 7) * 4800);
    const duration = (type === 'inventory.sync' ? 5000 : 1000) + Math.floor(unit(i, 8) * 30_000);
    const finishedAt = startedAt + duration;
    const at = new Date(finishedAt).toISOString();
    switch (bucket) {
      case 'succeeded':
        status = 'completed';
        skipped = type === 'backup_set.add_policies' ? Math.floor(total * 0.1 * unit(i, 9)) : 0;
        break;
      case 'partial': {
        status = 'completed_with_errors';
        failed = 1 + Math.floor(unit(i, 9) * Math.min(4, Math.max(0, total - 2)));
        for (let f = 0; f < Math.min(failed, 3); f++) {
          failures.push({
            item_id: String(10_000 + Math.floor(unit(i + f, 10) * 50_000)),
            reason_code: 'not_found',
            message: 'Policy no longer exists upstream (removed since the last sync).',
            at,
          });
        }
        break;
      }
      default: {
        const aborted = unit(i, 11) < 0.1;
        status = aborted ? 'aborted' : 'failed';
        processed = 0;
        const [reason, message] = aborted
          ? ['cancelled', 'Cancelled by an operator.']
          : FAILURES[Math.floor(unit(i, 12) * FAILURES.length)];
        failures.push({ item_id: null, reason_code: reason, message, at });
      }
    }
    const succeeded = Math.max(0, processed - failed - skipped);

    let payload: object;
    let key: string;
    let itemIds: string | null = null;
    if (type === 'inventory.sync') {
      payload = { source: 'demo' };
      key = 'inventory.sync';
    } else if (type === 'drift.generate') {
      payload = {
        scope_key: 'a3f1c09e5b7d2e48',
        scope_name: 'All policies',
        policy_types: POLICY_TYPES,
        baseline_run_id: id - 40,
        current_run_id: id - 12,
      };
      key = `drift:a3f1c09e5b7d2e48:${id - 40}:${id - 12}`;
    } else {
      const set = 1 + Math.floor(unit(i, 13) * 12);
      payload = { backup_set_id: set, backup_set_name: `Weekly baseline ${set}`, selected: total };
      key = `backup:${set}:${(i * 2654435761).toString(16).slice(0, 16)}`;
      const first = 1000 + Math.floor(unit(i, 14) * 40_000);
      itemIds = JSON.stringify(Array.from({ length: total }, (_, k) => String(first + k * 3)));
    }
    const attempts = status === 'failed' ? 3 : 1;
    return `(${[
      id,
      tenant.id,
      userId ?? 'NULL',
      q(resource),
      q(action),
      q(status),
      q(bucket),
      total,
      processed,
      succeeded,
      failed,
      skipped,
      q(itemIds),
      q(JSON.stringify(payload)),
      q(JSON.stringify(failures)),
      0,
      q(key),
      'NULL',
      q(`run-${id}`),
      attempts,
      'NULL',
      dbDate(created),
      dbDate(startedAt),
      dbDate(finishedAt),
      dbDate(finishedAt),
    ].join(',')})`;
  }
}
