import Redis from 'ioredis';
import { Connection, createConnection } from 'mysql2/promise';
import { randomBytes } from 'node:crypto';

/** The bench's own database and Redis key prefixes on the shared servers, removed afterwards. */
export interface BenchBackends {
  /** A URL of the server without a database, for admin connections. */
  serverUrl: string;
  database: string;
  databaseUrl: string;
  redisUrl: string;
  /** Bull prefix of the app under test. */
  appPrefix: string;
  /** Bull prefix of the bare-Bull baselines. */
  barePrefix: string;
  /** Bull prefix of the drift child process's own app. */
  driftPrefix: string;
  admin(): Promise<Connection>;
  cleanup(): Promise<void>;
}

const DEFAULT_MYSQL = 'mysql://root@127.0.0.1:3306/bench';
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

export async function createBackends(opts: { keep: boolean }): Promise<BenchBackends> {
  const raw = process.env.DATABASE_URL?.startsWith('mysql://') ? process.env.DATABASE_URL : DEFAULT_MYSQL;
  const id = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const database = `bench_ops_${id}`;
  const server = new URL(raw);
  server.pathname = '/';
  server.search = '';
  const dbUrl = new URL(server.toString());
  dbUrl.pathname = `/${database}`;
  const serverUrl = server.toString();
  const admin = () => createConnection({ uri: serverUrl, timezone: 'Z', supportBigNumbers: true });

  const c = await admin();
  await c.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await c.end();

  const redisUrl = process.env.REDIS_URL || DEFAULT_REDIS;
  const appPrefix = `bench-${id}`;
  const barePrefix = `${appPrefix}-bare`;
  const driftPrefix = `${appPrefix}-drift`;
  let cleaned = false;
  return {
    serverUrl,
    database,
    databaseUrl: dbUrl.toString(),
    redisUrl,
    appPrefix,
    barePrefix,
    driftPrefix,
    admin: async () => {
      const conn = await admin();
      await conn.query(`USE \`${database}\``);
      return conn;
    },
    cleanup: async () => {
      if (cleaned) return;
      cleaned = true;
      if (!opts.keep) {
        const conn = await admin();
        await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
        await conn.end();
      }
      // Only our prefixes (the app's, the bare baselines', the drift child's): the Redis server is shared.
      const r = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${appPrefix}*:*`, 'COUNT', 5000);
        if (keys.length) await r.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
      await r.quit();
    },
  };
}
