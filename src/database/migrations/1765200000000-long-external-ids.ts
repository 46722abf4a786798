import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLES = ['policies', 'inventory_snapshot_items', 'drift_findings', 'backup_items'];

/**
 * Microsoft Graph ids are longer than the demo's: an enrollment configuration is
 * `<guid>_<ConfigurationType>` (over 90 characters). Policy ids take up to 190 characters everywhere.
 * SQLite does not enforce a varchar's length, so only MySQL has anything to change.
 */
export class LongExternalIds1765200000000 implements MigrationInterface {
  name = 'LongExternalIds1765200000000';

  async up(q: QueryRunner): Promise<void> {
    if (q.connection.options.type !== 'mysql') return;
    for (const table of TABLES)
      await q.query(`ALTER TABLE ${table} MODIFY external_id varchar(190) NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    if (q.connection.options.type !== 'mysql') return;
    for (const table of TABLES) await q.query(`ALTER TABLE ${table} MODIFY external_id varchar(64) NOT NULL`);
  }
}
