import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { columns } from '../migration-helpers';

/**
 * A run waiting out a transient failure (a throttled provider's Retry-After, say) says so on its
 * page: when the next attempt is due and why it waits. Set when an attempt fails transiently, cleared
 * when the next one starts or the run ends.
 */
export class RunRetryWait1765300000000 implements MigrationInterface {
  name = 'RunRetryWait1765300000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    await q.addColumns('operation_runs', [
      new TableColumn(c.datetime('retry_at', true)),
      new TableColumn(c.str('retry_reason', 32, true)),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('operation_runs', 'retry_reason');
    await q.dropColumn('operation_runs', 'retry_at');
  }
}
