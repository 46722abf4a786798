import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { columns } from '../migration-helpers';

export class BackupSets1764400000000 implements MigrationInterface {
  name = 'BackupSets1764400000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    await q.createTable(
      new Table({
        name: 'backup_sets',
        columns: [
          c.id(),
          c.ref('tenant_id'),
          c.str('name', 120),
          c.str('description', 500, true),
          c.ref('created_by', true),
          c.int('item_count', 0),
          c.datetime('created_at'),
          c.datetime('updated_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_backup_sets_tenant_name',
            columnNames: ['tenant_id', 'name'],
            isUnique: true,
          }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'backup_items',
        columns: [
          c.id(),
          c.ref('backup_set_id'),
          c.ref('tenant_id'),
          c.ref('policy_id', true),
          c.str('policy_type', 64),
          c.str('external_id', 64),
          c.str('display_name', 255),
          // The captured normalized payload lives in policy_payloads under this hash.
          c.str('payload_hash', 64),
          c.ref('run_id', true),
          c.datetime('captured_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_backup_items_set_policy',
            columnNames: ['backup_set_id', 'policy_type', 'external_id'],
            isUnique: true,
          }),
          new TableIndex({
            name: 'ix_backup_items_set_name',
            columnNames: ['backup_set_id', 'display_name'],
          }),
        ],
        foreignKeys: [
          {
            columnNames: ['backup_set_id'],
            referencedTableName: 'backup_sets',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('backup_items');
    await q.dropTable('backup_sets');
  }
}
