import type { EntityManager, QueryRunner } from 'typeorm';
/**
 * Raw-SQL helpers for the hot paths that bypass entity hydration. SQLite keeps datetimes as
 * 'YYYY-MM-DD HH:MM:SS.SSS' UTC text (the format TypeORM writes), MySQL as DATETIME(3) in UTC.
 */
export function toDbDate(d: Date, mysql: boolean): Date | string {
  return mysql ? d : d.toISOString().replace('T', ' ').replace('Z', '');
}

export function fromDbDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  const s = String(v);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
}

export function parseJson<T>(v: unknown, fallback: T): T {
  if (v === null || v === undefined) return fallback;
  if (typeof v !== 'string') return v as T;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

/** Duplicate-key errors on either driver. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; driverError?: { code?: string }; message?: string };
  const code = err?.driverError?.code ?? err?.code;
  return (
    code === 'ER_DUP_ENTRY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /UNIQUE constraint failed/.test(err?.message ?? '')
  );
}

type Executor = { query: (sql: string, params?: unknown[]) => Promise<unknown> };

function valuesClause(cols: string[], rows: unknown[][]): { sql: string; params: unknown[] } {
  const one = `(${cols.map(() => '?').join(', ')})`;
  return { sql: rows.map(() => one).join(', '), params: rows.flat() };
}

/** Multi-row INSERT (`verb` for the dialect's INSERT IGNORE and the like). */
export async function insertRows(
  db: Executor,
  table: string,
  cols: string[],
  rows: unknown[][],
  verb = 'INSERT',
): Promise<void> {
  if (!rows.length) return;
  const v = valuesClause(cols, rows);
  await db.query(`${verb} INTO ${table} (${cols.join(', ')}) VALUES ${v.sql}`, v.params);
}

/** Multi-row INSERT that skips rows whose key already exists (both dialects). */
export function insertIgnore(
  db: Executor,
  mysql: boolean,
  table: string,
  cols: string[],
  rows: unknown[][],
): Promise<void> {
  return insertRows(db, table, cols, rows, mysql ? 'INSERT IGNORE' : 'INSERT OR IGNORE');
}

/**
 * Multi-row upsert: insert, or update the `update` columns of the row with the same `key` — overwrite
 * them with the new values, or (`add`) add the new values to them.
 */
export async function upsertRows(
  db: Executor,
  mysql: boolean,
  table: string,
  cols: string[],
  rows: unknown[][],
  key: string[],
  update: string[],
  how: 'overwrite' | 'add' = 'overwrite',
): Promise<void> {
  if (!rows.length) return;
  const v = valuesClause(cols, rows);
  const set = (c: string, incoming: string) => `${c} = ${how === 'add' ? `${c} + ` : ''}${incoming}`;
  const tail = mysql
    ? `ON DUPLICATE KEY UPDATE ${update.map((c) => set(c, `VALUES(${c})`)).join(', ')}`
    : `ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${update.map((c) => set(c, `excluded.${c}`)).join(', ')}`;
  await db.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES ${v.sql} ${tail}`, v.params);
}

/** Splits work into batches, e.g. to keep IN lists and multi-row inserts bounded. */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A case-insensitive "contains" condition on a column, with LIKE wildcards in the search taken literally. */
export function containsClause(
  column: string,
  search: string,
  mysql: boolean,
): { sql: string; param: string } {
  return {
    sql: `LOWER(${column}) LIKE ?${mysql ? '' : " ESCAPE '\\'"}`,
    param: `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
  };
}

/**
 * Runs a write and reports affected rows and the new id on both drivers (EntityManager.query hides
 * them on SQLite). Uses the manager's transaction when it has one.
 */
export async function exec(
  em: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<{ affected: number; insertId: number }> {
  const mysql = em.connection.options.type === 'mysql';
  const run = async (qr: QueryRunner) => {
    const r = await qr.query(sql, params, true);
    return { affected: Number(r.affected ?? 0), insertId: Number(mysql ? r.raw?.insertId : r.raw) };
  };
  if (em.queryRunner) return run(em.queryRunner);
  const qr = em.connection.createQueryRunner();
  try {
    return await run(qr);
  } finally {
    await qr.release();
  }
}
