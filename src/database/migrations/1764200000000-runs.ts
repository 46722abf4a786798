import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { columns } from '../migration-helpers';

export class Runs1764200000000 implements MigrationInterface {
  name = 'Runs1764200000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    await q.createTable(
      new Table({
        name: 'operation_runs',
        columns: [
          c.id(),
          c.ref('tenant_id'),
          c.ref('user_id', true),
          c.str('resource', 64),
          c.str('action', 64),
          c.str('status', 32),
          c.str('status_bucket', 16),
          c.int('total_items', 0),
          c.int('processed_items', 0),
          c.int('succeeded', 0),
          c.int('failed', 0),
          c.int('skipped', 0),
          c.text('item_ids', true),
          c.text('payload', true),
          c.text('failures', true),
          c.int('failures_omitted', 0),
          c.str('idempotency_key', 191, true),
          // Equals idempotency_key while the run is pending/running, NULL afterwards: the unique index
          // below is what makes "reuse the active run" race-safe.
          c.str('active_key', 191, true),
          c.str('job_id', 64, true),
          c.int('attempts', 0),
          c.ref('parent_run_id', true),
          c.datetime('created_at'),
          c.datetime('started_at', true),
          c.datetime('finished_at', true),
          c.datetime('updated_at'),
        ],
        indices: [
          // One per list filter, each ending in (created_at, id) so paging is an index range walk.
          new TableIndex({ name: 'ix_runs_tenant_created', columnNames: ['tenant_id', 'created_at', 'id'] }),
          new TableIndex({
            name: 'ix_runs_tenant_bucket_created',
            columnNames: ['tenant_id', 'status_bucket', 'created_at', 'id'],
          }),
          new TableIndex({
            name: 'ix_runs_tenant_type_created',
            columnNames: ['tenant_id', 'resource', 'action', 'created_at', 'id'],
          }),
          new TableIndex({
            name: 'uq_runs_tenant_active_key',
            columnNames: ['tenant_id', 'active_key'],
            isUnique: true,
          }),
          // Reconciler and retention sweep across tenants.
          new TableIndex({ name: 'ix_runs_status_updated', columnNames: ['status', 'updated_at'] }),
          new TableIndex({ name: 'ix_runs_created', columnNames: ['created_at'] }),
          new TableIndex({ name: 'ix_runs_parent', columnNames: ['parent_run_id'] }),
        ],
      }),
    );
    // Counters kept as runs change bucket, so the chart never scans the runs table.
    await q.createTable(
      new Table({
        name: 'run_daily_counts',
        columns: [
          { ...c.ref('tenant_id'), isPrimary: true },
          { ...c.str('day', 10), isPrimary: true },
          { ...c.str('resource', 64), isPrimary: true },
          { ...c.str('action', 64), isPrimary: true },
          { ...c.str('bucket', 16), isPrimary: true },
          c.int('n', 0),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('run_daily_counts');
    await q.dropTable('operation_runs');
  }
}
