import mysql from 'mysql2';

type QueryFn = (this: unknown, ...args: unknown[]) => unknown;

export interface CapturedStatement {
  sql: string;
  params: unknown[];
}

/**
 * Counts (and on request records) every statement this process sends to MySQL, by wrapping mysql2's
 * connection-level query(): TypeORM's pool and the bench's own connections both go through it.
 * Unlike the server's global `Questions` counter it is blind to other clients of the shared server.
 */
export class SqlCounter {
  count = 0;
  private log: CapturedStatement[] | null = null;
  private installed = false;

  install(): void {
    if (this.installed) return;
    this.installed = true;
    const proto = Object.getPrototypeOf(mysql.Connection.prototype) as { query: QueryFn };
    const original = proto.query;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const counter = this;
    proto.query = function (this: unknown, ...args: unknown[]) {
      counter.count++;
      if (counter.log) {
        const [q, v] = args;
        // TypeORM passes (sql, values); a pool's query() hands its connection a Query holding both.
        const command = q as { sql?: string; values?: unknown } | undefined;
        counter.log.push({
          sql: typeof q === 'string' ? q : String(command?.sql ?? ''),
          params: Array.isArray(v) ? v : Array.isArray(command?.values) ? command.values : [],
        });
      }
      return original.apply(this, args);
    };
  }

  /** Statements sent while `work` runs (nothing else of this process should be talking to MySQL). */
  async record<T>(work: () => Promise<T>): Promise<{ result: T; statements: CapturedStatement[] }> {
    const log: CapturedStatement[] = [];
    this.log = log;
    try {
      const result = await work();
      return { result, statements: log };
    } finally {
      this.log = null;
    }
  }
}

export const sqlCounter = new SqlCounter();
