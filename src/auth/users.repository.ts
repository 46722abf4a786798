import { Injectable, Optional } from '@nestjs/common';
import { Db, type Sql } from '../database/db';
import { Dialect } from '../database/dialect';
import { placeholders, readDate, readNum } from '../database/sql';
import { BusCache, CacheBus } from '../queue';
import { ApiToken, Theme, THEMES, User } from './user';

/** What decides whether a cached principal is still good: the user's auth version, and not deactivated. */
export interface AuthState {
  version: number;
  active: boolean;
}

const USER_COLUMNS = 'id, email, name, is_ops, created_at, deactivated_at, last_sign_in_at, theme, timezone';
const TOKEN_COLUMNS = 'id, user_id, name, token_prefix, created_at, last_used_at, revoked_at';

const NAMES_TOPIC = 'users:names';
const AUTH_TOPIC = 'users:auth';
const TOKENS_TOPIC = 'users:tokens';
/**
 * Who may act is re-read at least this often in every process, announced or not (a change from a
 * process with no Redis, such as the CLI on the embedded default, is seen within this).
 */
export const AUTH_CACHE_MS = 5_000;

/** A live API token as a request needs it (the owner's auth state is read apart, from its own cache). */
export interface TokenRow {
  id: number;
  userId: number;
  lastUsedAt: Date | null;
}

/** The users and api_tokens tables: the only place that reads them. */
@Injectable()
export class UsersRepository {
  /**
   * Display names by id (every list names who started each run), kept while the CacheBus is live and
   * dropped in every process when a user is renamed. Processes without Redis (the CLI) read each time.
   */
  private readonly nameCache: BusCache<string>;
  /**
   * Each user's auth state (what a cached principal is checked against) and each live token by its
   * hash, kept a few seconds while the CacheBus is live: every change to a user's access announces
   * it (authChanged), a revocation drops every kept token. So a signed-in page or an API call reads
   * nothing of its caller's account most of the time.
   */
  private readonly authCache: BusCache<AuthState | null>;
  private readonly tokenCache: BusCache<TokenRow | null>;

  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    @Optional() private readonly bus?: CacheBus,
  ) {
    this.nameCache = new BusCache(bus, NAMES_TOPIC);
    this.authCache = new BusCache(bus, AUTH_TOPIC, 10_000, AUTH_CACHE_MS);
    this.tokenCache = new BusCache(bus, TOKENS_TOPIC, 10_000, AUTH_CACHE_MS);
  }

  /**
   * These users' access changed (stored already, or about to be with the transaction it was written
   * in: then call again once it commits): every process reads their auth state afresh.
   */
  async authChanged(ids: number[]): Promise<void> {
    await this.bus?.invalidate(AUTH_TOPIC, ids);
  }

  /** A rename is stored: every process forgets the old name (call after the transaction commits). */
  async namesChanged(ids: number[]): Promise<void> {
    await this.bus?.invalidate(NAMES_TOPIC, ids);
  }

  async byId(id: number): Promise<User | null> {
    const [row] = await this.db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]);
    return row ? toUser(row) : null;
  }

  /** `email` in its normal form (see email.ts); compared exactly. */
  async byEmail(email: string): Promise<User | null> {
    const [row] = await this.db.query(`SELECT ${USER_COLUMNS} FROM users WHERE email = ?`, [email]);
    return row ? toUser(row) : null;
  }

  async withPasswordHash(email: string): Promise<{ user: User; passwordHash: string } | null> {
    const [row] = await this.db.query(`SELECT ${USER_COLUMNS}, password_hash FROM users WHERE email = ?`, [
      email,
    ]);
    return row ? { user: toUser(row), passwordHash: String(row.password_hash) } : null;
  }

  names(ids: number[]): Promise<Map<number, string>> {
    return this.nameCache.getMany([...new Set(ids)], async (missing) => {
      const rows = await this.db.query(
        `SELECT id, name FROM users WHERE id IN (${placeholders(missing.length)})`,
        missing,
      );
      return new Map(rows.map((r) => [readNum(r.id), String(r.name)]));
    });
  }

  async count(): Promise<number> {
    return readNum((await this.db.query('SELECT COUNT(*) AS n FROM users'))[0].n);
  }

  /** Users whose e-mail or name contains `q` (any case), by e-mail, keyset-paged after an e-mail. */
  async search(q: string, limit: number, after?: string): Promise<User[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q) {
      const email = this.dialect.contains('email', q);
      const name = this.dialect.contains('name', q);
      where.push(`(${email.sql} OR ${name.sql})`);
      params.push(email.param, name.param);
    }
    if (after) {
      where.push('email > ?');
      params.push(after);
    }
    const rows = await this.db.query(
      `SELECT ${USER_COLUMNS} FROM users${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
       ORDER BY email LIMIT ${Math.trunc(limit)}`,
      params,
    );
    return rows.map(toUser);
  }

  async byIds(ids: number[]): Promise<User[]> {
    const unique = [...new Set(ids)];
    if (!unique.length) return [];
    const rows = await this.db.query(
      `SELECT ${USER_COLUMNS} FROM users WHERE id IN (${placeholders(unique.length)})`,
      unique,
    );
    return rows.map(toUser);
  }

  async passwordHashOf(id: number): Promise<string | null> {
    const [row] = await this.db.query('SELECT password_hash FROM users WHERE id = ?', [id]);
    return row ? String(row.password_hash) : null;
  }

  /** Sets a password; the auth version moves on, so anything cached about this user is renewed. */
  async setPassword(id: number, passwordHash: string, tx: Sql = this.db): Promise<void> {
    await tx.exec('UPDATE users SET password_hash = ?, auth_version = auth_version + 1 WHERE id = ?', [
      passwordHash,
      id,
    ]);
    await this.authChanged([id]);
  }

  /** Renames; the auth version moves on, so every process shows the new name on its next request. */
  async setName(id: number, name: string, tx: Sql = this.db): Promise<void> {
    await tx.exec('UPDATE users SET name = ?, auth_version = auth_version + 1 WHERE id = ?', [name, id]);
    // Inside a transaction the caller announces it again once it commits (namesChanged).
    await this.namesChanged([id]);
    await this.authChanged([id]);
  }

  /** Display preferences; the auth version moves on, so cached principals show them at once. */
  async setPreferences(id: number, p: { theme: Theme; timezone: string | null }): Promise<void> {
    await this.db.exec(
      'UPDATE users SET theme = ?, timezone = ?, auth_version = auth_version + 1 WHERE id = ?',
      [p.theme, p.timezone, id],
    );
    await this.authChanged([id]);
  }

  /** Whether the user's state changed (false: it was so already). */
  async setDeactivated(id: number, at: Date | null, tx: Sql = this.db): Promise<boolean> {
    const { affected } = await tx.exec(
      `UPDATE users SET deactivated_at = ?, auth_version = auth_version + 1
       WHERE id = ? AND deactivated_at IS ${at ? '' : 'NOT '}NULL`,
      [at ? this.dialect.date(at) : null, id],
    );
    await this.authChanged([id]);
    return affected > 0;
  }

  async setOps(id: number, isOps: boolean, tx: Sql = this.db): Promise<boolean> {
    const { affected } = await tx.exec(
      'UPDATE users SET is_ops = ?, auth_version = auth_version + 1 WHERE id = ? AND is_ops = ?',
      [isOps ? 1 : 0, id, isOps ? 0 : 1],
    );
    await this.authChanged([id]);
    return affected > 0;
  }

  /**
   * The active platform admins, their rows locked (MySQL) or the database held (SQLite) until the
   * transaction ends, so two admins demoting each other at once cannot leave the platform without one.
   */
  async lockActiveAdmins(tx: Sql): Promise<number[]> {
    const rows = await tx.query(
      `SELECT id FROM users WHERE is_ops = 1 AND deactivated_at IS NULL ORDER BY id${this.dialect.forUpdate()}`,
    );
    return rows.map((r) => readNum(r.id));
  }

  async touchSignIn(id: number, at: Date): Promise<void> {
    await this.db.exec('UPDATE users SET last_sign_in_at = ? WHERE id = ?', [this.dialect.date(at), id]);
  }

  /** What a cached principal is checked against: bumped by every change to the user's access. */
  async authState(id: number): Promise<AuthState | null> {
    return this.authCache.get(id, '', async () => {
      const [row] = await this.db.query('SELECT auth_version, deactivated_at FROM users WHERE id = ?', [id]);
      return row ? { version: readNum(row.auth_version), active: row.deactivated_at == null } : null;
    });
  }

  async bumpAuthVersion(ids: number[]): Promise<void> {
    if (!ids.length) return;
    await this.db.exec(
      `UPDATE users SET auth_version = auth_version + 1 WHERE id IN (${placeholders(ids.length)})`,
      ids,
    );
    await this.authChanged(ids);
  }

  async insert(
    u: { email: string; name: string; passwordHash: string; isOps: boolean },
    at: Date,
    tx: Sql = this.db,
  ): Promise<number> {
    const { insertId } = await tx.exec(
      'INSERT INTO users (email, name, password_hash, is_ops, created_at) VALUES (?, ?, ?, ?, ?)',
      [u.email, u.name, u.passwordHash, u.isOps ? 1 : 0, this.dialect.date(at)],
    );
    return insertId;
  }

  async insertToken(
    t: { userId: number; name: string; hash: string; prefix: string },
    at: Date,
  ): Promise<number> {
    const { insertId } = await this.db.exec(
      'INSERT INTO api_tokens (user_id, name, token_hash, token_prefix, created_at) VALUES (?, ?, ?, ?, ?)',
      [t.userId, t.name, t.hash, t.prefix, this.dialect.date(at)],
    );
    return insertId;
  }

  /**
   * The live token with this hash: its id, owner and last use (kept a few seconds; whether its owner
   * may still act is authState's business).
   */
  tokenByHash(hash: string): Promise<TokenRow | null> {
    return this.tokenCache.get(hash, '', async () => {
      const [row] = await this.db.query(
        'SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL',
        [hash],
      );
      return row
        ? { id: readNum(row.id), userId: readNum(row.user_id), lastUsedAt: readDate(row.last_used_at) }
        : null;
    });
  }

  async touchToken(id: number, at: Date): Promise<void> {
    await this.db.exec('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [this.dialect.date(at), id]);
  }

  async tokensOf(userId: number): Promise<ApiToken[]> {
    const rows = await this.db.query(
      `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE user_id = ? ORDER BY id DESC`,
      [userId],
    );
    return rows.map(toToken);
  }

  /** Whether a live token of this user was revoked now. */
  async revokeToken(userId: number, tokenId: number, at: Date): Promise<boolean> {
    const { affected } = await this.db.exec(
      'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL',
      [this.dialect.date(at), tokenId, userId],
    );
    // Kept tokens are by hash, which a revocation does not know: every process drops them all (rare).
    if (affected > 0) await this.bus?.invalidate(TOKENS_TOPIC, 'all');
    return affected > 0;
  }
}

function toUser(r: Record<string, unknown>): User {
  return {
    id: readNum(r.id),
    email: String(r.email),
    name: String(r.name),
    isOps: Boolean(Number(r.is_ops)),
    createdAt: readDate(r.created_at)!,
    deactivatedAt: readDate(r.deactivated_at),
    lastSignInAt: readDate(r.last_sign_in_at),
    theme: THEMES.includes(r.theme as Theme) ? (r.theme as Theme) : 'system',
    timezone: typeof r.timezone === 'string' && r.timezone ? r.timezone : null,
  };
}

function toToken(r: Record<string, unknown>): ApiToken {
  return {
    id: readNum(r.id),
    userId: readNum(r.user_id),
    name: String(r.name),
    tokenPrefix: String(r.token_prefix),
    createdAt: readDate(r.created_at)!,
    lastUsedAt: readDate(r.last_used_at),
    revokedAt: readDate(r.revoked_at),
  };
}
