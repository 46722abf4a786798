import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';
import { columns } from '../migration-helpers';

export class Hardening1764600000000 implements MigrationInterface {
  name = 'Hardening1764600000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    // Sessions name their user (so a password change or a deactivation ends them at once) and expire
    // by a plain number; everyone signs in again once after this upgrade.
    await q.dropTable('sessions');
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', type: 'varchar', length: '128', isPrimary: true },
          c.ref('user_id', true),
          { name: 'expires_at', type: 'bigint' },
          c.text('data'),
        ],
        indices: [
          new TableIndex({ name: 'ix_sessions_expires', columnNames: ['expires_at'] }),
          new TableIndex({ name: 'ix_sessions_user', columnNames: ['user_id'] }),
        ],
      }),
    );
    // E-mails are stored in one normal form (NFC, lower case) and compared exactly: MySQL's default
    // collations take "ö" for "o", which let an accented variant sign in as someone else.
    const rows: Array<{ id: number; email: string }> = await q.manager
      .createQueryBuilder()
      .select(['id', 'email'])
      .from('users', 'u')
      .getRawMany();
    for (const r of rows) {
      const normal = r.email.normalize('NFC').trim().toLowerCase();
      if (normal !== r.email)
        await q.manager
          .createQueryBuilder()
          .update('users')
          .set({ email: normal })
          .where('id = :id', { id: r.id })
          .execute();
    }
    if (c.mysql) {
      await q.changeColumn(
        'users',
        'email',
        new TableColumn({ ...c.str('email', 190), charset: 'utf8mb4', collation: 'utf8mb4_bin' }),
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const c = columns(q);
    if (c.mysql) await q.changeColumn('users', 'email', new TableColumn(c.str('email', 190)));
    await q.dropTable('sessions');
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
}
