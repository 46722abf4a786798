import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';
import { columns } from '../migration-helpers';

export class RunOperations1764500000000 implements MigrationInterface {
  name = 'RunOperations1764500000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    // Every failed item id, uncapped (the failures column keeps 100 worded entries): what "Retry failed items" retries.
    await q.createTable(
      new Table({
        name: 'run_failed_items',
        columns: [
          { ...c.ref('run_id'), isPrimary: true },
          { ...c.str('item_id', 191), isPrimary: true },
        ],
      }),
    );
    // Operator actions on runs; the start itself is the run row (initiator, time, payload).
    await q.createTable(
      new Table({
        name: 'run_audit',
        columns: [
          c.id(),
          c.ref('run_id'),
          c.ref('tenant_id'),
          c.ref('user_id', true),
          c.str('action', 32),
          c.str('detail', 300),
          c.datetime('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_run_audit_run', columnNames: ['run_id', 'id'] })],
      }),
    );
    // Simulated provider latency of the demo source, to watch long runs (and kill workers under them).
    await q.addColumn('demo_source_state', new TableColumn({ ...c.int('latency_ms', 0) }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('demo_source_state', 'latency_ms');
    await q.dropTable('run_audit');
    await q.dropTable('run_failed_items');
  }
}
