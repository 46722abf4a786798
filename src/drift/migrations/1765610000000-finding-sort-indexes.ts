import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

const COMPARISON = ['tenant_id', 'scope_key', 'baseline_run_id', 'current_run_id'];

/**
 * Indexes for the findings list's two sorts within a comparison: by change type (then policy type
 * and name, the list's default order) and by policy name. The first starts with every column of
 * ix_findings_comparison, which it replaces.
 */
export class FindingSortIndexes1765610000000 implements MigrationInterface {
  name = 'FindingSortIndexes1765610000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex(
      'drift_findings',
      new TableIndex({
        name: 'ix_findings_comparison_change',
        columnNames: [...COMPARISON, 'change_type', 'policy_type', 'display_name'],
      }),
    );
    await q.createIndex(
      'drift_findings',
      new TableIndex({ name: 'ix_findings_comparison_name', columnNames: [...COMPARISON, 'display_name'] }),
    );
    await q.dropIndex('drift_findings', 'ix_findings_comparison');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.createIndex(
      'drift_findings',
      new TableIndex({ name: 'ix_findings_comparison', columnNames: [...COMPARISON, 'change_type'] }),
    );
    await q.dropIndex('drift_findings', 'ix_findings_comparison_name');
    await q.dropIndex('drift_findings', 'ix_findings_comparison_change');
  }
}
