import fc from 'fast-check';
import { Table } from 'typeorm';
import { Db } from '../../src/database/db';
import { Dialect } from '../../src/database/dialect';
import { columns } from '../../src/database/migration-helpers';
import { readDate, readNum } from '../../src/database/sql';
import { createTestApp, TestApp } from '../factories/test-app';

/**
 * The SQL the Dialect writes, run on the real database of this test run (MariaDB in CI, SQLite on
 * the embedded default), checked against a model in JavaScript with generated inputs.
 */
describe('Dialect and Db on this database', () => {
  let t: TestApp;
  let db: Db;
  let dialect: Dialect;

  beforeAll(async () => {
    t = await createTestApp();
    db = t.get<Db>(Db);
    dialect = t.get<Dialect>(Dialect);
    const q = t.dataSource.createQueryRunner();
    const c = columns(q);
    try {
      await q.createTable(
        new Table({ name: 't_kv', columns: [{ ...c.str('k', 64), isPrimary: true }, c.int('n', 0)] }),
      );
      await q.createTable(new Table({ name: 't_parent', columns: [{ ...c.int('id'), isPrimary: true }] }));
      await q.createTable(
        new Table({
          name: 't_child',
          columns: [{ ...c.int('id'), isPrimary: true }, c.int('parent_id')],
          foreignKeys: [
            { columnNames: ['parent_id'], referencedTableName: 't_parent', referencedColumnNames: ['id'] },
          ],
        }),
      );
      await q.createTable(
        new Table({ name: 't_text', columns: [{ ...c.int('id'), isPrimary: true }, c.str('s', 200)] }),
      );
      await q.createTable(
        new Table({ name: 't_dates', columns: [{ ...c.int('id'), isPrimary: true }, c.datetime('at')] }),
      );
      await q.createTable(
        new Table({ name: 't_lock', columns: [{ ...c.int('id'), isPrimary: true }, c.int('n', 0)] }),
      );
    } finally {
      await q.release();
    }
  });
  afterAll(() => t?.close());

  const exec = (s: { sql: string; params: unknown[] }) => db.exec(s.sql, s.params);
  const key = fc.stringMatching(/^[a-z0-9]{1,8}$/);

  it('insertIgnore keeps the first row of a key and writes every new one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.tuple(key, fc.integer({ min: -1000, max: 1000 })), { maxLength: 8 }), {
          maxLength: 5,
        }),
        async (batches) => {
          await db.exec('DELETE FROM t_kv');
          const model = new Map<string, number>();
          for (const batch of batches) {
            // One statement cannot hold the same key twice on either database; a batch is unique.
            const unique = [...new Map(batch.map(([k, n]) => [k, n])).entries()];
            if (!unique.length) continue;
            await exec(dialect.insertIgnore('t_kv', ['k', 'n'], unique));
            for (const [k, n] of unique) if (!model.has(k)) model.set(k, n);
          }
          const rows = await db.query<{ k: string; n: number }>('SELECT k, n FROM t_kv');
          expect(new Map(rows.map((r) => [r.k, readNum(r.n)]))).toEqual(model);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('insertIgnore does not hide a broken reference: it fails on both databases', async () => {
    await db.exec('DELETE FROM t_child');
    await db.exec('DELETE FROM t_parent');
    await db.exec('INSERT INTO t_parent (id) VALUES (1)');
    await exec(dialect.insertIgnore('t_child', ['id', 'parent_id'], [[1, 1]]));
    const err = await exec(dialect.insertIgnore('t_child', ['id', 'parent_id'], [[2, 99]])).catch(
      (e: unknown) => e,
    );
    expect(dialect.isForeignKeyViolation(err)).toBe(true);
    // …while a duplicate of an existing child is skipped quietly.
    await exec(dialect.insertIgnore('t_child', ['id', 'parent_id'], [[1, 1]]));
    expect(readNum((await db.query('SELECT COUNT(*) AS n FROM t_child'))[0].n)).toBe(1);
  });

  it.each(['overwrite', 'add'] as const)('upsert (%s) matches its model', async (how) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.tuple(key, fc.integer({ min: -50, max: 50 })), { maxLength: 6 }), {
          maxLength: 6,
        }),
        async (batches) => {
          await db.exec('DELETE FROM t_kv');
          const model = new Map<string, number>();
          for (const batch of batches) {
            const unique = [...new Map(batch.map(([k, n]) => [k, n])).entries()];
            if (!unique.length) continue;
            await exec(dialect.upsert('t_kv', ['k', 'n'], unique, ['k'], ['n'], how));
            for (const [k, n] of unique) model.set(k, how === 'add' ? (model.get(k) ?? 0) + n : n);
          }
          const rows = await db.query<{ k: string; n: number }>('SELECT k, n FROM t_kv');
          expect(new Map(rows.map((r) => [r.k, readNum(r.n)]))).toEqual(model);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('contains finds exactly the rows holding the search, wildcards taken literally', async () => {
    const text = fc.stringMatching(/^[a-zA-Z0-9 %_\\.'-]{0,12}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.array(text, { minLength: 1, maxLength: 8 }),
        text.filter((s) => s.length > 0),
        async (values, search) => {
          await db.exec('DELETE FROM t_text');
          for (const [i, s] of values.entries())
            await db.exec('INSERT INTO t_text (id, s) VALUES (?, ?)', [i, s]);
          const like = dialect.contains('s', search);
          const rows = await db.query<{ id: number }>(`SELECT id FROM t_text WHERE ${like.sql} ORDER BY id`, [
            like.param,
          ]);
          const expected = values
            .map((s, i) => [s, i] as const)
            .filter(([s]) => s.toLowerCase().includes(search.toLowerCase()))
            .map(([, i]) => i);
          expect(rows.map((r) => readNum(r.id))).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('stores and reads back a date to the millisecond', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.date({
          min: new Date('1971-01-01T00:00:00Z'),
          max: new Date('2099-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        async (d) => {
          await db.exec('DELETE FROM t_dates');
          await db.exec('INSERT INTO t_dates (id, at) VALUES (1, ?)', [dialect.date(d)]);
          const [row] = await db.query('SELECT at FROM t_dates WHERE id = 1');
          expect(readDate(row.at)!.toISOString()).toBe(d.toISOString());
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a rolled-back transaction leaves nothing behind, and statements outside it are not part of it', async () => {
    await db.exec('DELETE FROM t_kv');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = db
      .transaction(async (tx) => {
        await tx.exec('INSERT INTO t_kv (k, n) VALUES (?, ?)', ['inside', 1]);
        await held;
        throw new Error('roll back');
      })
      .catch(() => 'rolled back');
    // Sent while the transaction is open: on SQLite it waits its turn instead of joining it.
    const outside = db.exec('INSERT INTO t_kv (k, n) VALUES (?, ?)', ['outside', 2]);
    await new Promise((r) => setTimeout(r, 20));
    release();
    expect(await tx).toBe('rolled back');
    await outside;
    const rows = await db.query<{ k: string }>('SELECT k FROM t_kv ORDER BY k');
    expect(rows.map((r) => r.k)).toEqual(['outside']);
  });

  // SQLite is one connection taken in turns: no two writers ever hold locks at once, so no deadlock
  // (the test app runs on MySQL when DATABASE_URL is set, as in CI).
  const onMysql = process.env.DATABASE_URL?.startsWith('mysql') ? it : it.skip;

  onMysql('a single statement chosen as a deadlock victim is sent again and takes effect once', async () => {
    expect(t.dataSource.options.type).toBe('mysql');
    await db.exec('DELETE FROM t_lock');
    const ids = Array.from({ length: 60 }, (_, i) => i + 1);
    await db.exec(`INSERT INTO t_lock (id, n) VALUES ${ids.map(() => '(?, 0)').join(', ')}`, ids);
    const other = t.dataSource.createQueryRunner();
    try {
      // The other writer holds rows 2-60 (the heavier transaction, so InnoDB rolls the statement back).
      await other.startTransaction();
      await other.query('UPDATE t_lock SET n = n + 1 WHERE id >= 2');
      // Locks row 1, then waits for row 2.
      const statement = db.exec('UPDATE t_lock SET n = n + 10 WHERE id IN (1, 2)');
      const settled = statement.then(
        (r) => ({ ok: r }),
        (e: { code?: string }) => ({ failed: e.code }),
      );
      for (let i = 0; ; i++) {
        const [w] = await db.query<{ n: number | string }>(
          "SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT' AND trx_query LIKE '%t_lock%'",
        );
        if (Number(w.n) > 0) break;
        if (i > 200) throw new Error('the statement never waited for the lock');
        await new Promise((r) => setTimeout(r, 10));
      }
      // Closing the cycle: one of the two is the victim, the lighter one, the single statement.
      await other.query('UPDATE t_lock SET n = n + 1 WHERE id = 1');
      await other.commitTransaction();
      expect(await settled).toEqual({ ok: { affected: 2, insertId: 0 } });
    } finally {
      if (other.isTransactionActive) await other.rollbackTransaction();
      await other.release();
    }
    const rows = await db.query<{ id: number; n: number | string }>(
      'SELECT id, n FROM t_lock WHERE id <= 3 ORDER BY id',
    );
    // Each write counted exactly once: the victim's first try left nothing behind.
    expect(rows.map((r) => Number(r.n))).toEqual([11, 11, 1]);
  });
});
