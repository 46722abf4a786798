import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { Dialect } from '../database/dialect';
import { readNum } from '../database/sql';
import { BusCache, CacheBus } from '../queue';

export interface SavedView {
  id: number;
  name: string;
  /** The filters as a query string, without the "?". */
  query: string;
}

/**
 * The saved_run_views table: a user's named Operations filters. The list on every Operations page is
 * kept per user until that user saves or deletes one, in any process (CacheBus).
 */
@Injectable()
export class SavedViewsRepository {
  private readonly cache: BusCache<SavedView[]>;

  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly bus: CacheBus,
  ) {
    this.cache = new BusCache(bus, 'monitoring:saved-views');
  }

  forUser(userId: number): Promise<SavedView[]> {
    return this.cache.get(userId, '', async () => {
      const rows = await this.db.query(
        'SELECT id, name, query FROM saved_run_views WHERE user_id = ? ORDER BY name, id LIMIT 100',
        [userId],
      );
      return rows.map((r) => ({ id: readNum(r.id), name: String(r.name), query: String(r.query) }));
    });
  }

  async count(userId: number): Promise<number> {
    const [row] = await this.db.query('SELECT COUNT(*) AS n FROM saved_run_views WHERE user_id = ?', [
      userId,
    ]);
    return readNum(row.n);
  }

  /** A new view, or the one of the same name given the new query. */
  async save(userId: number, name: string, query: string): Promise<void> {
    const s = this.dialect.upsert(
      'saved_run_views',
      ['user_id', 'name', 'query', 'created_at'],
      [[userId, name, query, this.dialect.date(new Date())]],
      ['user_id', 'name'],
      ['query'],
    );
    await this.db.exec(s.sql, s.params);
    await this.bus.invalidate(this.cache.topic, [userId]);
  }

  /** False when the user has no view with this id (another user's included). */
  async delete(userId: number, id: number): Promise<boolean> {
    const { affected } = await this.db.exec('DELETE FROM saved_run_views WHERE id = ? AND user_id = ?', [
      id,
      userId,
    ]);
    await this.bus.invalidate(this.cache.topic, [userId]);
    return affected > 0;
  }

  async exists(userId: number, name: string): Promise<boolean> {
    const [row] = await this.db.query('SELECT id FROM saved_run_views WHERE user_id = ? AND name = ?', [
      userId,
      name,
    ]);
    return Boolean(row);
  }
}
