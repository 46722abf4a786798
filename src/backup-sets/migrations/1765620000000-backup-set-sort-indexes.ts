import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

const INDEXES: Array<[string, string[]]> = [
  // The list sorted by item count and by last update; by name has uq_backup_sets_tenant_name.
  ['ix_backup_sets_tenant_items', ['tenant_id', 'item_count']],
  ['ix_backup_sets_tenant_updated', ['tenant_id', 'updated_at']],
];

/** Indexes for the Backup sets list's sortable columns, so a sorted page is an index walk. */
export class BackupSetSortIndexes1765620000000 implements MigrationInterface {
  name = 'BackupSetSortIndexes1765620000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [name, columnNames] of INDEXES)
      await q.createIndex('backup_sets', new TableIndex({ name, columnNames }));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name] of INDEXES) await q.dropIndex('backup_sets', name);
  }
}
