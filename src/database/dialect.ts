import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * Everything MySQL/MariaDB and SQLite say differently, in one place: how a date is stored, "insert
 * unless it exists", upsert, case-insensitive contains, row locks and index hints, a day of a
 * datetime, and which driver errors mean a duplicate or a broken reference. Repositories ask it;
 * nothing else knows which database it is talking to.
 */
@Injectable()
export class Dialect {
  private readonly mysql: boolean;

  constructor(ds: DataSource) {
    this.mysql = ds.options.type === 'mysql';
  }

  /**
   * A Date as a statement parameter. SQLite keeps datetimes as 'YYYY-MM-DD HH:MM:SS.SSS' UTC text
   * (the format TypeORM writes), MySQL as DATETIME(3) in UTC.
   */
  date(d: Date): Date | string {
    return this.mysql ? d : d.toISOString().replace('T', ' ').replace('Z', '');
  }

  /**
   * Multi-row INSERT that skips rows whose unique key already exists, and only those: a row whose
   * foreign key points nowhere is an error on both databases. (MySQL's INSERT IGNORE would turn that
   * into a warning and report the row as written.)
   */
  insertIgnore(table: string, cols: string[], rows: unknown[][]): Statement {
    const v = values(cols, rows);
    const tail = this.mysql ? `ON DUPLICATE KEY UPDATE ${cols[0]} = ${cols[0]}` : 'ON CONFLICT DO NOTHING';
    return { sql: `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${v.sql} ${tail}`, params: v.params };
  }

  /**
   * Multi-row upsert: insert, or update the `update` columns of the row with the same `key` — overwrite
   * them with the new values, or (`add`) add the new values to them.
   */
  upsert(
    table: string,
    cols: string[],
    rows: unknown[][],
    key: string[],
    update: string[],
    how: 'overwrite' | 'add' = 'overwrite',
  ): Statement {
    const v = values(cols, rows);
    const set = (c: string, incoming: string) => `${c} = ${how === 'add' ? `${c} + ` : ''}${incoming}`;
    const tail = this.mysql
      ? `ON DUPLICATE KEY UPDATE ${update.map((c) => set(c, `VALUES(${c})`)).join(', ')}`
      : `ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${update.map((c) => set(c, `excluded.${c}`)).join(', ')}`;
    return { sql: `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${v.sql} ${tail}`, params: v.params };
  }

  /** A case-insensitive "contains" condition, with LIKE wildcards in the search taken literally. */
  contains(column: string, search: string): { sql: string; param: string } {
    return {
      sql: `LOWER(${column}) LIKE ?${this.mysql ? '' : " ESCAPE '\\'"}`,
      param: `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
    };
  }

  /**
   * A "starts with" condition an index on the column can serve, wildcards in the prefix taken
   * literally. Case is ignored by the collation on MySQL (a `_ci` one, as the app's tables use) and by
   * LIKE itself on SQLite (ASCII letters).
   */
  startsWith(column: string, prefix: string): { sql: string; param: string } {
    return {
      sql: `${column} LIKE ?${this.mysql ? '' : " ESCAPE '\\'"}`,
      param: `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
    };
  }

  /** Locks the rows a SELECT reads until the transaction ends (SQLite's writer lock already does). */
  forUpdate(): string {
    return this.mysql ? ' FOR UPDATE' : '';
  }

  /**
   * Names the index a list must walk: MariaDB, left alone, reads a tenant's rows by tenant_id and
   * sorts them. SQLite's planner finds it by itself.
   */
  forceIndex(name: string): string {
    return this.mysql ? `FORCE INDEX (${name})` : '';
  }

  /** The UTC day ('YYYY-MM-DD') of a datetime column. */
  dayOf(column: string): string {
    return this.mysql ? `DATE_FORMAT(${column}, '%Y-%m-%d')` : `substr(${column}, 1, 10)`;
  }

  /** Duplicate-key errors on either driver. */
  isUniqueViolation(e: unknown): boolean {
    const code = driverCode(e);
    return (
      code === 'ER_DUP_ENTRY' ||
      code === 'SQLITE_CONSTRAINT_UNIQUE' ||
      code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
      /UNIQUE constraint failed/.test((e as { message?: string })?.message ?? '')
    );
  }

  /** A row referring to one that does not exist (any more), on either driver. */
  isForeignKeyViolation(e: unknown): boolean {
    const code = driverCode(e);
    return (
      code === 'ER_NO_REFERENCED_ROW_2' ||
      code === 'ER_NO_REFERENCED_ROW' ||
      code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ||
      /FOREIGN KEY constraint failed/.test((e as { message?: string })?.message ?? '')
    );
  }
}

function values(cols: string[], rows: unknown[][]): { sql: string; params: unknown[] } {
  const one = `(${cols.map(() => '?').join(', ')})`;
  return { sql: rows.map(() => one).join(', '), params: rows.flat() };
}

function driverCode(e: unknown): string | undefined {
  const err = e as { code?: string; driverError?: { code?: string } };
  return err?.driverError?.code ?? err?.code;
}
