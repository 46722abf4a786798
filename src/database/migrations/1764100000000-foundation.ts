import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { columns } from '../migration-helpers';

export class Foundation1764100000000 implements MigrationInterface {
  name = 'Foundation1764100000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    await q.createTable(
      new Table({
        name: 'users',
        columns: [
          c.id(),
          c.str('email', 190),
          c.str('name', 120),
          c.str('password_hash', 100),
          c.bool('is_ops'),
          c.datetime('created_at'),
        ],
        indices: [new TableIndex({ name: 'uq_users_email', columnNames: ['email'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'tenants',
        columns: [c.id(), c.str('slug', 64), c.str('name', 120), c.datetime('created_at')],
        indices: [new TableIndex({ name: 'uq_tenants_slug', columnNames: ['slug'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'memberships',
        columns: [c.id(), c.ref('user_id'), c.ref('tenant_id'), c.str('role', 16), c.datetime('created_at')],
        indices: [
          new TableIndex({
            name: 'uq_memberships_user_tenant',
            columnNames: ['user_id', 'tenant_id'],
            isUnique: true,
          }),
          new TableIndex({ name: 'ix_memberships_tenant', columnNames: ['tenant_id'] }),
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
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
        name: 'api_tokens',
        columns: [
          c.id(),
          c.ref('user_id'),
          c.str('name', 80),
          c.str('token_hash', 64),
          c.str('token_prefix', 16),
          c.datetime('created_at'),
          c.datetime('last_used_at', true),
          c.datetime('revoked_at', true),
        ],
        indices: [
          new TableIndex({ name: 'uq_api_tokens_hash', columnNames: ['token_hash'], isUnique: true }),
          new TableIndex({ name: 'ix_api_tokens_user', columnNames: ['user_id'] }),
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
    // Shape required by connect-typeorm's session store.
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', type: 'varchar', length: '255', isPrimary: true },
          { name: 'expiredAt', type: 'bigint' },
          c.text('json'),
          c.datetime('destroyedAt', true),
        ],
        indices: [new TableIndex({ name: 'ix_sessions_expired', columnNames: ['expiredAt'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['sessions', 'api_tokens', 'memberships', 'tenants', 'users']) await q.dropTable(t);
  }
}
