import type { Connection } from 'mysql2/promise';
import { sleep } from '../stats';

async function status(conn: Connection, name: string): Promise<number> {
  const [rows]: any = await conn.query('SHOW GLOBAL STATUS LIKE ?', [name]);
  return Number(rows[0]?.Value ?? 0);
}

/** The server's global statement counter (all clients, this query included). */
export function globalQuestions(conn: Connection): Promise<number> {
  return status(conn, 'Questions');
}

/**
 * After a bulk load InnoDB is still purging old row versions and flushing dirty pages for a while,
 * and every query pays for it. A database that has held its runs for weeks is not in that state, so
 * the list measurements wait (up to `maxMs`) until purge has caught up and flushing has calmed down.
 */
export async function waitForInnodbQuiet(conn: Connection, maxMs: number): Promise<number> {
  const t0 = Date.now();
  let lastDirty = -1;
  let steady = 0;
  while (Date.now() - t0 < maxMs) {
    const history = await status(conn, 'Innodb_history_list_length');
    const dirty = await status(conn, 'Innodb_buffer_pool_pages_dirty');
    steady = history < 100 && lastDirty >= 0 && Math.abs(dirty - lastDirty) < 50 ? steady + 1 : 0;
    if (steady >= 2) break;
    lastDirty = dirty;
    await sleep(500);
  }
  return Date.now() - t0;
}
