import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

const INDEXES: Array<[string, string[]]> = [
  // The Policies list sorted by type (then name) and by last seen; by name has ix_policies_tenant_name.
  ['ix_policies_tenant_type_name', ['tenant_id', 'policy_type', 'display_name']],
  ['ix_policies_tenant_seen', ['tenant_id', 'last_seen_at']],
];

/** Indexes for the Policies list's sortable columns, so a sorted page is an index walk. */
export class PolicySortIndexes1765600000000 implements MigrationInterface {
  name = 'PolicySortIndexes1765600000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [name, columnNames] of INDEXES)
      await q.createIndex('policies', new TableIndex({ name, columnNames }));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name] of INDEXES) await q.dropIndex('policies', name);
  }
}
