import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { columns } from '../migration-helpers';

export class InventoryDriftNotifications1764300000000 implements MigrationInterface {
  name = 'InventoryDriftNotifications1764300000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    // Normalized payloads stored once per distinct content: successive syncs share almost all of them.
    await q.createTable(
      new Table({
        name: 'policy_payloads',
        columns: [
          { ...c.ref('tenant_id'), isPrimary: true },
          { ...c.str('payload_hash', 64), isPrimary: true },
          c.text('payload'),
          c.datetime('created_at'),
        ],
      }),
    );
    // The tenant's inventory as of its latest sync.
    await q.createTable(
      new Table({
        name: 'policies',
        columns: [
          c.id(),
          c.ref('tenant_id'),
          c.str('policy_type', 64),
          c.str('external_id', 64),
          c.str('display_name', 255),
          c.str('platform', 32),
          c.str('payload_hash', 64),
          c.ref('last_sync_run_id', true),
          c.datetime('first_seen_at'),
          c.datetime('last_seen_at'),
          c.datetime('removed_at', true),
        ],
        indices: [
          new TableIndex({
            name: 'uq_policies_tenant_type_ext',
            columnNames: ['tenant_id', 'policy_type', 'external_id'],
            isUnique: true,
          }),
          new TableIndex({ name: 'ix_policies_tenant_name', columnNames: ['tenant_id', 'display_name'] }),
        ],
      }),
    );
    // What each inventory.sync run captured: the snapshots drift compares.
    await q.createTable(
      new Table({
        name: 'inventory_snapshot_items',
        columns: [
          { ...c.ref('run_id'), isPrimary: true },
          { ...c.str('policy_type', 64), isPrimary: true },
          { ...c.str('external_id', 64), isPrimary: true },
          c.ref('tenant_id'),
          c.str('display_name', 255),
          c.str('platform', 32),
          c.str('payload_hash', 64),
        ],
      }),
    );
    // State of the demo policy source per tenant, shared by web and worker processes.
    await q.createTable(
      new Table({
        name: 'demo_source_state',
        columns: [
          { ...c.ref('tenant_id'), isPrimary: true },
          c.int('generation', 0),
          c.int('size', 300),
          c.str('fault', 32, true),
          c.str('fault_operations', 64, true),
          c.str('fault_message', 500, true),
          c.datetime('updated_at'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'drift_findings',
        columns: [
          c.id(),
          c.ref('tenant_id'),
          c.ref('run_id'),
          c.str('scope_key', 32),
          c.ref('baseline_run_id'),
          c.ref('current_run_id'),
          c.str('change_type', 16),
          c.str('policy_type', 64),
          c.str('external_id', 64),
          c.str('display_name', 255),
          c.text('changes'),
          c.str('fingerprint', 64),
          c.datetime('created_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_findings_tenant_fingerprint',
            columnNames: ['tenant_id', 'fingerprint'],
            isUnique: true,
          }),
          new TableIndex({
            name: 'ix_findings_comparison',
            columnNames: ['tenant_id', 'scope_key', 'baseline_run_id', 'current_run_id', 'change_type'],
          }),
          new TableIndex({ name: 'ix_findings_run', columnNames: ['run_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'notifications',
        columns: [
          c.id(),
          c.ref('user_id'),
          c.ref('tenant_id'),
          c.ref('run_id', true),
          c.str('kind', 32),
          c.str('level', 16),
          c.str('title', 200),
          c.str('body', 500),
          c.str('link', 300, true),
          c.datetime('created_at'),
          c.datetime('read_at', true),
        ],
        indices: [
          new TableIndex({ name: 'ix_notifications_user_read', columnNames: ['user_id', 'read_at', 'id'] }),
          new TableIndex({ name: 'ix_notifications_run', columnNames: ['run_id'] }),
          new TableIndex({ name: 'ix_notifications_created', columnNames: ['created_at'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'notifications',
      'drift_findings',
      'demo_source_state',
      'inventory_snapshot_items',
      'policies',
      'policy_payloads',
    ]) {
      await q.dropTable(t);
    }
  }
}
