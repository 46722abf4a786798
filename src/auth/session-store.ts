import session from 'express-session';
import { Db } from '../database/db';
import { Dialect } from '../database/dialect';

type Callback<T = void> = (err?: unknown, value?: T) => void;

/**
 * Sessions in the database (every web process shares them; pages keep working while Redis is down),
 * in plain SQL: one indexed read per request, one upsert when a session changes, nothing on a plain
 * page view (expiry is fixed at sign-in, so touch() writes nothing). Each row names its user, so a
 * password change or a deactivation can end that user's sessions at once. Expired rows are pruned.
 */
export class SqlSessionStore extends session.Store {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly ttlMs: number,
  ) {
    super();
  }

  override get(sid: string, cb: Callback<session.SessionData | null>): void {
    this.db
      .query<{ data: string; expires_at: number | string }>(
        'SELECT data, expires_at FROM sessions WHERE id = ?',
        [sid],
      )
      .then((rows) => {
        const row = rows[0];
        if (!row || Number(row.expires_at) <= Date.now()) return cb(undefined, null);
        cb(undefined, JSON.parse(row.data) as session.SessionData);
      })
      .catch((e) => cb(e));
  }

  override set(sid: string, sess: session.SessionData, cb?: Callback): void {
    const expires = sess.cookie?.expires ? new Date(sess.cookie.expires).getTime() : Date.now() + this.ttlMs;
    const userId = (sess as { userId?: number }).userId ?? null;
    const upsert = this.dialect.upsert(
      'sessions',
      ['id', 'user_id', 'expires_at', 'data'],
      [[sid, userId, expires, JSON.stringify(sess)]],
      ['id'],
      ['user_id', 'expires_at', 'data'],
    );
    this.db.exec(upsert.sql, upsert.params).then(
      () => cb?.(),
      (e) => cb?.(e),
    );
  }

  override destroy(sid: string, cb?: Callback): void {
    this.db.exec('DELETE FROM sessions WHERE id = ?', [sid]).then(
      () => cb?.(),
      (e) => cb?.(e),
    );
  }

  /** The expiry is fixed at sign-in: a page view writes nothing. */
  override touch(_sid: string, _sess: session.SessionData, cb?: Callback): void {
    cb?.();
  }

  /** Ends every session of a user (but one: the one making the change keeps signed in). */
  async destroyUserSessions(userId: number, exceptSid?: string): Promise<void> {
    if (exceptSid)
      await this.db.exec('DELETE FROM sessions WHERE user_id = ? AND id <> ?', [userId, exceptSid]);
    else await this.db.exec('DELETE FROM sessions WHERE user_id = ?', [userId]);
  }

  /** Removes expired sessions (a visitor who never comes back leaves one behind). */
  async prune(now = Date.now()): Promise<void> {
    await this.db.exec('DELETE FROM sessions WHERE expires_at <= ?', [now]);
  }
}
