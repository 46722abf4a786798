import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { MIGRATIONS } from './migrations';

/** One builder for the app, the tests and the benchmark, so every path runs the same migrations. */
export function buildDataSourceOptions(config: Pick<AppConfig, 'database'>): DataSourceOptions {
  const common = {
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    logging: false,
  } as const;
  if (config.database.type === 'sqlite') {
    const file = config.database.file;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: file,
      // WAL lets page reads go on while a job writes; the busy timeout absorbs short write overlaps.
      enableWAL: true,
      prepareDatabase: (db: { pragma: (s: string) => unknown }) => {
        db.pragma('busy_timeout = 5000');
        db.pragma('foreign_keys = ON');
        db.pragma('synchronous = NORMAL');
      },
    };
  }
  return {
    ...common,
    type: 'mysql',
    url: config.database.url,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    supportBigNumbers: true,
    bigNumberStrings: false,
    connectTimeout: 5000,
    extra: { connectionLimit: 20, enableKeepAlive: true },
  };
}

/**
 * Applies pending migrations. On MySQL several processes may boot at once (web + workers), so the run
 * is serialised with a named lock; SQLite is single-process by design.
 */
export async function runMigrations(ds: DataSource): Promise<void> {
  if (ds.options.type !== 'mysql') {
    await ds.runMigrations({ transaction: 'each' });
    return;
  }
  const qr = ds.createQueryRunner();
  try {
    const [row] = await qr.query(`SELECT GET_LOCK('ops_hub_migrations', 120) AS got`);
    if (Number(row.got) !== 1) throw new Error('Timed out waiting for another process to finish migrations');
    await ds.runMigrations({ transaction: 'none' });
  } finally {
    await qr.query(`SELECT RELEASE_LOCK('ops_hub_migrations')`).catch(() => undefined);
    await qr.release();
  }
}
