import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { columns } from '../migration-helpers';

/**
 * What a run is about, in its producer's words (`backup_set:12`), so "the runs of this backup set"
 * is an indexed read instead of a pattern match on the runs module's idempotency-key format.
 */
export class RunSubjects1764700000000 implements MigrationInterface {
  name = 'RunSubjects1764700000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    await q.addColumn('operation_runs', new TableColumn(c.str('subject', 191, true)));
    await q.createIndex(
      'operation_runs',
      new TableIndex({ name: 'ix_runs_tenant_subject', columnNames: ['tenant_id', 'subject', 'id'] }),
    );
    // Runs from before: add_policies runs named their set only in the payload.
    for (let after = 0; ;) {
      const rows: Array<{ id: number; payload: string | object }> = await q.query(
        `SELECT id, payload FROM operation_runs WHERE resource = 'backup_set' AND action = 'add_policies' AND id > ? ORDER BY id LIMIT 1000`,
        [after],
      );
      if (!rows.length) break;
      for (const r of rows) {
        const payload = typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload;
        const setId = Number(payload?.backup_set_id);
        if (Number.isInteger(setId) && setId > 0)
          await q.query('UPDATE operation_runs SET subject = ? WHERE id = ?', [`backup_set:${setId}`, r.id]);
      }
      after = Number(rows[rows.length - 1].id);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('operation_runs', 'ix_runs_tenant_subject');
    await q.dropColumn('operation_runs', 'subject');
  }
}
