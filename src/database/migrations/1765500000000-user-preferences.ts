import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { columns } from '../migration-helpers';

/**
 * Per-user display preferences from the profile page: the colour theme (`system` follows the
 * browser's prefers-color-scheme, else `light` or `dark`) and the IANA time zone local times are
 * shown in beside UTC (null: UTC only).
 */
export class UserPreferences1765500000000 implements MigrationInterface {
  name = 'UserPreferences1765500000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    await q.addColumns('users', [
      new TableColumn({ ...c.str('theme', 8), default: "'system'" }),
      new TableColumn(c.str('timezone', 64, true)),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('users', 'timezone');
    await q.dropColumn('users', 'theme');
  }
}
