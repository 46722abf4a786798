import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';
import { columns } from '../migration-helpers';

/**
 * Real tenants and people: tenant details and archiving, user deactivation and an auth version (what
 * a cached principal is checked against), single-use invitation and set-password tokens, and one
 * audit log for every administrative and run action (run_audit's rows move into it).
 */
export class People1765000000000 implements MigrationInterface {
  name = 'People1765000000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    const bin = c.mysql ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {};
    await q.addColumns('tenants', [
      new TableColumn(c.str('microsoft_tenant_id', 190, true)),
      new TableColumn(c.text('notes', true)),
      new TableColumn({ ...c.str('policy_source', 16), default: "'demo'" }),
      new TableColumn(c.datetime('archived_at', true)),
    ]);
    await q.createIndex(
      'tenants',
      new TableIndex({ name: 'uq_tenants_ms_tenant', columnNames: ['microsoft_tenant_id'], isUnique: true }),
    );
    await q.addColumns('users', [
      new TableColumn(c.datetime('deactivated_at', true)),
      new TableColumn(c.datetime('last_sign_in_at', true)),
      new TableColumn(c.int('auth_version', 1)),
    ]);
    await q.createTable(
      new Table({
        name: 'invitations',
        columns: [
          c.id(),
          c.str('token_hash', 64),
          { ...c.str('email', 190), ...bin },
          c.str('purpose', 16),
          c.ref('tenant_id', true),
          c.str('role', 16, true),
          c.ref('user_id', true),
          c.ref('invited_by', true),
          c.datetime('created_at'),
          c.datetime('expires_at'),
          c.datetime('used_at', true),
        ],
        indices: [
          new TableIndex({ name: 'uq_invitations_token', columnNames: ['token_hash'], isUnique: true }),
          new TableIndex({ name: 'ix_invitations_tenant', columnNames: ['tenant_id', 'id'] }),
        ],
        foreignKeys: [
          {
            columnNames: ['tenant_id'],
            referencedTableName: 'tenants',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_entries',
        columns: [
          c.id(),
          c.datetime('at'),
          c.ref('actor_id', true),
          c.ref('tenant_id', true),
          c.str('action', 48),
          c.str('subject_type', 32),
          c.str('subject_id', 64, true),
          c.str('subject_label', 190),
          c.text('before_json', true),
          c.text('after_json', true),
          c.str('detail', 300, true),
        ],
        indices: [
          new TableIndex({ name: 'ix_audit_tenant', columnNames: ['tenant_id', 'id'] }),
          new TableIndex({ name: 'ix_audit_tenant_action', columnNames: ['tenant_id', 'action', 'id'] }),
          new TableIndex({ name: 'ix_audit_tenant_actor', columnNames: ['tenant_id', 'actor_id', 'id'] }),
          new TableIndex({ name: 'ix_audit_subject', columnNames: ['subject_type', 'subject_id', 'id'] }),
        ],
      }),
    );
    // The run page's activity becomes part of the one audit log.
    const concat = (...parts: string[]) => (c.mysql ? `CONCAT(${parts.join(', ')})` : parts.join(' || '));
    await q.query(
      `INSERT INTO audit_entries (at, actor_id, tenant_id, action, subject_type, subject_id, subject_label, detail)
       SELECT created_at, user_id, tenant_id, ${concat("'run.'", 'action')}, 'run', run_id, ${concat("'Run #'", 'run_id')}, detail
       FROM run_audit ORDER BY id`,
    );
    await q.dropTable('run_audit');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_entries');
    await q.dropTable('invitations');
    await q.dropColumns('users', ['deactivated_at', 'last_sign_in_at', 'auth_version']);
    await q.dropIndex('tenants', 'uq_tenants_ms_tenant');
    await q.dropColumns('tenants', ['microsoft_tenant_id', 'notes', 'policy_source', 'archived_at']);
  }
}
