import session from 'express-session';
import { Db } from '../database/db';
import { Dialect } from '../database/dialect';
import { BusCache, type CacheBus } from '../queue';
import { AUTH_CACHE_MS, type AuthState } from './users.repository';

const TOPIC = 'sessions';

interface SessionRow {
  data: string;
  userId: number | null;
  expiresAt: number;
}

type Callback<T = void> = (err?: unknown, value?: T) => void;

/**
 * Sessions in the database (every web process shares them; pages keep working while Redis is down),
 * in plain SQL: one indexed read, one upsert when a session changes, nothing on a plain page view
 * (expiry is fixed at sign-in, so touch() writes nothing). Each row names its user, so a password
 * change or a deactivation can end that user's sessions at once. Expired rows are pruned.
 *
 * While the CacheBus is live a session read is kept a few seconds (AUTH_CACHE_MS): every save, sign-out
 * and ending of a user's sessions announces it, so no process serves a session that has changed or
 * ended. (Whether its user may still act is checked apart, against the user's auth state.)
 */
export class SqlSessionStore extends session.Store {
  /**
   * The auth state of each session's user, read with the session (one statement for both), until the
   * request that asked for it takes it (takeAuthState). Bounded: an abandoned entry is dropped.
   */
  private readonly authStates = new Map<string, { userId: number | null; state: AuthState | null }>();

  private readonly cache: BusCache<SessionRow | null>;

  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly ttlMs: number,
    private readonly bus?: CacheBus,
  ) {
    super();
    this.cache = new BusCache(bus, TOPIC, 10_000, AUTH_CACHE_MS);
  }

  override get(sid: string, cb: Callback<session.SessionData | null>): void {
    this.cache
      .get(sid, '', () => this.read(sid))
      .then((row) => {
        if (!row || row.expiresAt <= Date.now()) return cb(undefined, null);
        let data: session.SessionData;
        try {
          // A copy of its own for each request (express-session changes it and compares).
          data = JSON.parse(row.data) as session.SessionData;
        } catch (e) {
          return cb(e);
        }
        cb(undefined, data);
      }, cb);
  }

  private read(sid: string): Promise<SessionRow | null> {
    return this.db
      .query<{
        data: string;
        expires_at: number | string;
        user_id: number | string | null;
        auth_version: number | string | null;
        deactivated_at: unknown;
      }>(
        `SELECT s.data, s.expires_at, s.user_id, u.auth_version, u.deactivated_at
         FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
        [sid],
      )
      .then((rows) => {
        const row = rows[0];
        if (!row) return null;
        if (this.authStates.size >= 1000) this.authStates.clear();
        this.authStates.set(sid, {
          userId: row.user_id === null ? null : Number(row.user_id),
          state:
            row.auth_version === null
              ? null
              : { version: Number(row.auth_version), active: row.deactivated_at == null },
        });
        return {
          data: row.data,
          userId: row.user_id === null ? null : Number(row.user_id),
          expiresAt: Number(row.expires_at),
        };
      });
  }

  /**
   * The auth state read with this session just now (undefined when it was not read here): the session
   * middleware hands it to the request at once, so it is never older than the request.
   */
  takeAuthState(sid: string, userId: number | undefined): AuthState | null | undefined {
    const read = this.authStates.get(sid);
    this.authStates.delete(sid);
    // Only for the user the session names (its row's user_id is written with every save).
    return read && userId !== undefined && read.userId === userId ? read.state : undefined;
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
    this.db
      .exec(upsert.sql, upsert.params)
      .then(() => this.changed([sid]))
      .then(
        () => cb?.(),
        (e) => cb?.(e),
      );
  }

  override destroy(sid: string, cb?: Callback): void {
    this.db
      .exec('DELETE FROM sessions WHERE id = ?', [sid])
      .then(() => this.changed([sid]))
      .then(
        () => cb?.(),
        (e) => cb?.(e),
      );
  }

  private async changed(sids: string[] | 'all'): Promise<void> {
    await this.bus?.invalidate(TOPIC, sids);
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
    // Kept sessions are by id, which this does not know: every process drops them all (rare).
    await this.changed('all');
  }

  /** Removes expired sessions (a visitor who never comes back leaves one behind). */
  async prune(now = Date.now()): Promise<void> {
    await this.db.exec('DELETE FROM sessions WHERE expires_at <= ?', [now]);
  }
}
