import type { Sql } from '../database/db';
import type { Dialect } from '../database/dialect';
import type { Tx } from './producer';

/** A transaction's Sql with the producer's helpers over it (see Tx). */
export function producerTx(sql: Sql, dialect: Dialect): Tx {
  return {
    query: (q, params) => sql.query(q, params),
    exec: (q, params) => sql.exec(q, params),
    date: (d) => dialect.date(d),
    insert: async (table, rows, opts = {}) => {
      if (!rows.length) return;
      const cols = Object.keys(rows[0]);
      const values = rows.map((r) =>
        cols.map((c) => (r[c] instanceof Date ? dialect.date(r[c] as Date) : r[c])),
      );
      if (opts.ignoreDuplicates) {
        const s = dialect.insertIgnore(table, cols, values);
        await sql.exec(s.sql, s.params);
        return;
      }
      const one = `(${cols.map(() => '?').join(', ')})`;
      await sql.exec(
        `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${values.map(() => one).join(', ')}`,
        values.flat(),
      );
    },
  };
}
