import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { Dialect } from '../database/dialect';
import { placeholders, readDate, readNum } from '../database/sql';
import { ApiToken, User } from './user';

const USER_COLUMNS = 'id, email, name, is_ops, created_at';
const TOKEN_COLUMNS = 'id, user_id, name, token_prefix, created_at, last_used_at, revoked_at';

/** The users and api_tokens tables: the only place that reads them. */
@Injectable()
export class UsersRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

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

  async names(ids: number[]): Promise<Map<number, string>> {
    const unique = [...new Set(ids)];
    if (!unique.length) return new Map();
    const rows = await this.db.query(
      `SELECT id, name FROM users WHERE id IN (${placeholders(unique.length)})`,
      unique,
    );
    return new Map(rows.map((r) => [readNum(r.id), String(r.name)]));
  }

  async count(): Promise<number> {
    return readNum((await this.db.query('SELECT COUNT(*) AS n FROM users'))[0].n);
  }

  async insert(
    u: { email: string; name: string; passwordHash: string; isOps: boolean },
    at: Date,
  ): Promise<number> {
    const { insertId } = await this.db.exec(
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

  /** The live token with this hash: its id, owner and last use. */
  async tokenByHash(hash: string): Promise<{ id: number; userId: number; lastUsedAt: Date | null } | null> {
    const [row] = await this.db.query(
      'SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL',
      [hash],
    );
    return row
      ? { id: readNum(row.id), userId: readNum(row.user_id), lastUsedAt: readDate(row.last_used_at) }
      : null;
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
