import { Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pool, ResultSetHeader } from 'mysql2';
import { DataSource, QueryRunner } from 'typeorm';

/** What repositories send SQL through; a transaction hands its work the same shape. */
export interface Sql {
  /** Rows of a SELECT (or the driver's answer to anything else). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A write, with the rows it touched and the new id on both drivers. */
  exec(sql: string, params?: unknown[]): Promise<{ affected: number; insertId: number }>;
}

/** A transaction is sent again after a deadlock or a lock wait that timed out. */
const RETRY_TRANSACTION: ReadonlySet<string> = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
/** A statement outside one only after a deadlock: a timed-out lock wait has waited long enough. */
const RETRY_STATEMENT: ReadonlySet<string> = new Set(['ER_LOCK_DEADLOCK']);

/**
 * Every statement of the app goes through here, and every transaction through `transaction`.
 *
 * better-sqlite3 is one connection: a statement sent while a transaction is open runs inside it, and
 * vanishes with it if it rolls back (another run's finishing write, say). So on SQLite the connection
 * is taken in turns: a transaction holds the turn from BEGIN to COMMIT, a statement outside it waits
 * for its turn, and statements issued from inside the transaction's own work (its async context) run
 * in it, as they mean to. On MySQL each statement outside a transaction goes straight to the driver's
 * pool (TypeORM's query runner adds nothing to a finished SQL string but its own bookkeeping, on every
 * request's reads). A deadlock's victim is retried, a transaction whole (also after a lock wait that
 * timed out) and a single statement alike (MySQL rolls the victim back entirely, so sending it again is
 * safe): lock order between concurrent writers (two tenants' syncs writing neighbouring index entries,
 * item recorders, counters) is not ours to fix, and InnoDB's advice is to be ready to re-issue.
 */
@Injectable()
export class Db implements Sql {
  private readonly sqlite: boolean;
  private turn: Promise<unknown> = Promise.resolve();
  private readonly inTransaction = new AsyncLocalStorage<symbol>();
  private holder: symbol | undefined;

  constructor(private readonly ds: DataSource) {
    this.sqlite = ds.options.type !== 'mysql';
  }

  query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!this.sqlite) return this.onPool<T[]>(sql, params);
    return this.inTurn(() => this.ds.query(sql, params) as Promise<T[]>);
  }

  exec(sql: string, params: unknown[] = []): Promise<{ affected: number; insertId: number }> {
    if (!this.sqlite)
      return this.onPool<ResultSetHeader>(sql, params).then((r) => ({
        affected: Number(r.affectedRows ?? 0),
        insertId: Number(r.insertId ?? 0),
      }));
    return this.inTurn(async () => {
      const qr = this.ds.createQueryRunner();
      try {
        return await execOn(qr, sql, params, !this.sqlite);
      } finally {
        await qr.release();
      }
    });
  }

  /** Runs `work` in one transaction: all of it commits or none of it does. */
  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.sqlite) {
      if (this.holder && this.inTransaction.getStore() === this.holder)
        throw new Error('Db.transaction called inside a transaction: pass its Sql to the inner work');
      return this.take(() => {
        const id = Symbol('transaction');
        this.holder = id;
        return this.inTransaction
          .run(id, () => this.ds.transaction((em) => work(onRunner(em.queryRunner!, false))))
          .finally(() => {
            this.holder = undefined;
          });
      });
    }
    return retryingLockVictims(RETRY_TRANSACTION, () =>
      this.ds.transaction((em) => work(onRunner(em.queryRunner!, true))),
    );
  }

  /** One statement on a pooled MySQL connection (the pool TypeORM opened, with its settings). */
  private onPool<T>(sql: string, params: unknown[]): Promise<T> {
    const pool = (this.ds.driver as unknown as { pool: Pool | undefined }).pool;
    // Closed (a shutdown, or the connection given up): the same readable 503 as a refused connection.
    if (!pool)
      return Promise.reject(Object.assign(new Error('Pool is closed'), { code: 'PROTOCOL_CONNECTION_LOST' }));
    return retryingLockVictims(
      RETRY_STATEMENT,
      () =>
        new Promise<T>((resolve, reject) =>
          pool.query(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T))),
        ),
    );
  }

  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.sqlite) return fn();
    // Inside the transaction that holds the connection: part of it.
    if (this.holder && this.inTransaction.getStore() === this.holder) return fn();
    return this.take(fn);
  }

  private take<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.turn.then(fn);
    this.turn = next.catch(() => undefined);
    return next;
  }
}

/** Runs `work` until it fails with none of the `retryable` codes, five attempts in all. */
async function retryingLockVictims<T>(retryable: ReadonlySet<string>, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (e) {
      const code = (e as { code?: string } | null)?.code;
      if (attempt >= 5 || !code || !retryable.has(code)) throw e;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
    }
  }
}

function onRunner(qr: QueryRunner, mysql: boolean): Sql {
  return {
    query: <T>(sql: string, params: unknown[] = []) => qr.query(sql, params) as Promise<T[]>,
    exec: (sql: string, params: unknown[] = []) => execOn(qr, sql, params, mysql),
  };
}

async function execOn(
  qr: QueryRunner,
  sql: string,
  params: unknown[],
  mysql: boolean,
): Promise<{ affected: number; insertId: number }> {
  const r = await qr.query(sql, params, true);
  return { affected: Number(r.affected ?? 0), insertId: Number(mysql ? r.raw?.insertId : r.raw) };
}
