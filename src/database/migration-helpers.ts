import { QueryRunner, TableColumnOptions } from 'typeorm';

/**
 * Column builders that let one migration serve MySQL/MariaDB and SQLite: the driver writes the SQL,
 * these only pick the type each dialect needs (AUTOINCREMENT wants INTEGER on SQLite; MySQL datetime
 * needs precision 3 to keep milliseconds).
 */
export function columns(queryRunner: QueryRunner) {
  const mysql = queryRunner.connection.options.type === 'mysql';
  return {
    mysql,
    id: (name = 'id'): TableColumnOptions => ({
      name,
      type: mysql ? 'bigint' : 'integer',
      isPrimary: true,
      isGenerated: true,
      generationStrategy: 'increment',
    }),
    ref: (name: string, nullable = false): TableColumnOptions => ({
      name,
      type: mysql ? 'bigint' : 'integer',
      isNullable: nullable,
    }),
    int: (name: string, dflt?: number): TableColumnOptions => ({
      name,
      type: 'int',
      default: dflt,
      isNullable: dflt === undefined,
    }),
    str: (name: string, length: number, nullable = false): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      isNullable: nullable,
    }),
    text: (name: string, nullable = false): TableColumnOptions => ({
      name,
      type: mysql ? 'longtext' : 'text',
      isNullable: nullable,
    }),
    bool: (name: string, dflt = false): TableColumnOptions => ({
      name,
      type: 'boolean',
      default: dflt ? 1 : 0,
    }),
    datetime: (name: string, nullable = false): TableColumnOptions => ({
      name,
      type: 'datetime',
      precision: mysql ? 3 : undefined,
      isNullable: nullable,
    }),
  };
}
