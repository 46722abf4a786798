import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';
import { columns } from '../migration-helpers';

const INT_MAX = 2147483647;

/**
 * The rule of src/runs/run-reason.ts as it stands at this migration (a migration keeps its own copy:
 * it must do tomorrow what it does today): the latest run-level reason, else the most frequent one.
 */
function reasonOf(failures: unknown): string | null {
  if (!Array.isArray(failures) || !failures.length) return null;
  const code = (f: { reason_code?: unknown }) =>
    typeof f?.reason_code === 'string' ? f.reason_code.slice(0, 32) : 'unexpected_error';
  for (let i = failures.length - 1; i >= 0; i--) if (failures[i]?.item_id === null) return code(failures[i]);
  const counts = new Map<string, number>();
  let best: string | null = null;
  for (const f of failures) {
    const n = (counts.get(code(f)) ?? 0) + 1;
    counts.set(code(f), n);
    if (best === null || n > counts.get(best)!) best = code(f);
  }
  return best;
}

/**
 * The Operations table's tools: a failure reason, a target and a duration on every run, each with an
 * index that ends in the list's keyset (so filtering and sorting by them stays an index range walk),
 * an initiator index for "my runs", and saved filter views per user.
 */
export class OperationsTableTools1765400000000 implements MigrationInterface {
  name = 'OperationsTableTools1765400000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    await q.addColumns('operation_runs', [
      new TableColumn(c.str('target', 191, true)),
      new TableColumn(c.str('top_reason', 32, true)),
      new TableColumn(c.int('duration_ms')),
    ]);
    const indexes: Array<[string, string[]]> = [
      ['ix_runs_tenant_user_created', ['tenant_id', 'user_id', 'created_at', 'id']],
      ['ix_runs_tenant_reason_created', ['tenant_id', 'top_reason', 'created_at', 'id']],
      ['ix_runs_tenant_target_created', ['tenant_id', 'target', 'created_at', 'id']],
      ['ix_runs_tenant_duration', ['tenant_id', 'duration_ms', 'id']],
      ['ix_runs_tenant_failed', ['tenant_id', 'failed', 'id']],
    ];
    for (const [name, columnNames] of indexes)
      await q.createIndex('operation_runs', new TableIndex({ name, columnNames }));

    await q.createTable(
      new Table({
        name: 'saved_run_views',
        columns: [
          c.id(),
          c.ref('user_id'),
          c.str('name', 80),
          c.str('query', 1000),
          c.datetime('created_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_saved_run_views_user_name',
            columnNames: ['user_id', 'name'],
            isUnique: true,
          }),
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );

    // Runs from before: their duration from their times, their reason from their failures.
    const duration = c.mysql
      ? `LEAST(GREATEST(TIMESTAMPDIFF(MICROSECOND, started_at, finished_at) DIV 1000, 0), ${INT_MAX})`
      : `MIN(MAX(CAST(ROUND((julianday(finished_at) - julianday(started_at)) * 86400000) AS INTEGER), 0), ${INT_MAX})`;
    await q.query(
      `UPDATE operation_runs SET duration_ms = ${duration} WHERE finished_at IS NOT NULL AND started_at IS NOT NULL`,
    );
    for (let after = 0; ;) {
      const rows: Array<{ id: number | string; failures: string | object | null }> = await q.query(
        `SELECT id, failures FROM operation_runs WHERE id > ? AND failures IS NOT NULL AND failures <> '[]' ORDER BY id LIMIT 1000`,
        [after],
      );
      if (!rows.length) break;
      const set: Array<[number, string]> = [];
      for (const r of rows) {
        let list: unknown = r.failures;
        try {
          if (typeof list === 'string') list = JSON.parse(list);
        } catch {
          list = [];
        }
        const reason = reasonOf(list);
        if (reason) set.push([Number(r.id), reason]);
      }
      if (set.length)
        await q.query(
          `UPDATE operation_runs SET top_reason = CASE id ${set.map(() => 'WHEN ? THEN ?').join(' ')} END WHERE id IN (${set.map(() => '?').join(', ')})`,
          [...set.flat(), ...set.map(([id]) => id)],
        );
      after = Number(rows[rows.length - 1].id);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('saved_run_views');
    for (const name of [
      'ix_runs_tenant_failed',
      'ix_runs_tenant_duration',
      'ix_runs_tenant_target_created',
      'ix_runs_tenant_reason_created',
      'ix_runs_tenant_user_created',
    ])
      await q.dropIndex('operation_runs', name);
    await q.dropColumns('operation_runs', ['duration_ms', 'top_reason', 'target']);
  }
}
