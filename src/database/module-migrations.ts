import type { ModulesContainer } from '@nestjs/core';
import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

/** A migration class (TypeORM's: a `name` ending in a 13-digit timestamp). */
export type MigrationClass = (new () => MigrationInterface) & {
  /** Set by tableMigration for a table with a `run_id` column: its rows go when their run is pruned. */
  runRows?: { table: string; column: string };
};

/**
 * Provided by a module that owns tables of its own (a producer, through RunsModule.forProducer):
 * its migrations, run with the app's at boot, in timestamp order.
 */
export const MODULE_MIGRATIONS = Symbol('MODULE_MIGRATIONS');

/** Every module's MODULE_MIGRATIONS, read from the modules Nest has scanned (before any is built). */
export function moduleMigrations(modules: ModulesContainer): MigrationClass[] {
  const found = new Set<MigrationClass>();
  for (const module of modules.values()) {
    const list = module.providers.get(MODULE_MIGRATIONS)?.instance as MigrationClass[] | undefined;
    for (const m of list ?? []) found.add(m);
  }
  return [...found];
}

/** A column of tableMigration: `int`, `bigint`, `text`, `datetime`, `varchar(n)`, then `primary` or `null`. */
export type ColumnSpec = string;

/**
 * A migration that creates one table, for modules whose tables are simple: columns as short specs
 * (`{ run_id: 'int primary', line: 'varchar(1000)', note: 'text null' }`), written by TypeORM's
 * Table API so MySQL and SQLite each get their own SQL. A table with a `run_id` column holds rows of
 * runs: retention deletes them with their run.
 */
export function tableMigration(
  timestamp: number,
  table: string,
  spec: Record<string, ColumnSpec>,
): MigrationClass {
  if (!/^\d{13}$/.test(String(timestamp)))
    throw new Error(`tableMigration(${table}): the timestamp needs 13 digits`);
  const name = `${table.replace(/(^|_)([a-z])/g, (_, _sep: string, c: string) => c.toUpperCase())}${timestamp}`;
  return class implements MigrationInterface {
    static runRows = 'run_id' in spec ? { table, column: 'run_id' } : undefined;
    name = name;

    async up(q: QueryRunner): Promise<void> {
      const mysql = q.connection.options.type === 'mysql';
      const columns: TableColumnOptions[] = Object.entries(spec).map(([column, s]) => {
        const m = /^(int|bigint|text|datetime|varchar\((\d+)\))(?: (primary|null))?$/.exec(s.trim());
        if (!m) throw new Error(`tableMigration(${table}): column ${column} "${s}" is not a known spec`);
        const type = m[1].startsWith('varchar') ? 'varchar' : m[1] === 'text' && mysql ? 'longtext' : m[1];
        return {
          name: column,
          type,
          length: m[2],
          precision: type === 'datetime' && mysql ? 3 : undefined,
          isPrimary: m[3] === 'primary',
          isNullable: m[3] === 'null',
        };
      });
      await q.createTable(new Table({ name: table, columns }));
    }

    async down(q: QueryRunner): Promise<void> {
      await q.dropTable(table);
    }
  };
}
