import { closeSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { MIGRATIONS } from './migrations';
import type { MigrationClass } from './module-migrations';

/** One builder for the app, the tests and the benchmark, so every path runs the same migrations. */
export function buildDataSourceOptions(
  config: Pick<AppConfig, 'database'>,
  migrations: MigrationClass[] = MIGRATIONS,
): DataSourceOptions {
  const common = {
    synchronize: false,
    migrationsRun: false,
    migrations,
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
 * Applies pending migrations, the app's and its modules' together in timestamp order. Several
 * processes may boot at once (web + workers), so the run is serialised: with a named lock on MySQL,
 * with a lock file beside the database file on SQLite.
 */
export async function runMigrations(ds: DataSource): Promise<void> {
  if (ds.options.type !== 'mysql') {
    const file = String(ds.options.database);
    if (file === ':memory:') {
      await ds.runMigrations({ transaction: 'each' });
      return;
    }
    const release = await lockFile(`${file}.migrating`);
    try {
      await ds.runMigrations({ transaction: 'each' });
    } finally {
      release();
    }
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

const LOCK_WAIT_MS = 120_000;
/** A lock older than this was left by a process that died while migrating. */
const STALE_LOCK_MS = 5 * 60_000;

/** Takes an exclusive lock file (created, never opened by two), waiting while another process holds it. */
async function lockFile(path: string): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(path, 'wx'));
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = Date.now() - (statSafe(path) ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(path, { force: true });
      else if (Date.now() > deadline)
        throw new Error('Timed out waiting for another process to finish migrations');
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function statSafe(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}
