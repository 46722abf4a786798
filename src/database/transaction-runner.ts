import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

const RETRYABLE_MYSQL = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

/**
 * Runs a unit of work in one transaction on either driver. better-sqlite3 has a single connection,
 * so concurrent async transactions would interleave on it: they are queued here instead. On MySQL,
 * deadlock victims are retried, since row-lock order between concurrent item recorders is not ours to fix.
 */
@Injectable()
export class TransactionRunner {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly dataSource: DataSource) {}

  get isMysql(): boolean {
    return this.dataSource.options.type === 'mysql';
  }

  run<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    if (this.isMysql) return this.withRetry(work);
    const next = this.tail.then(() => this.dataSource.transaction(work));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async withRetry<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(work);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt >= 5 || !code || !RETRYABLE_MYSQL.has(code)) throw e;
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
      }
    }
  }
}
