import { Injectable } from '@nestjs/common';
import { Db, type Sql } from '../database/db';
import { Dialect } from '../database/dialect';
import { readDate, readNum, readNumOrNull } from '../database/sql';
import type { Role } from '../tenants';

/** What a link is for: joining a tenant, or setting the password of an existing account. */
export type InvitationPurpose = 'invite' | 'password';

/** A single-use link as stored: only the SHA-256 of its token, never the token. */
export interface Invitation {
  id: number;
  email: string;
  purpose: InvitationPurpose;
  tenantId: number | null;
  role: Role | null;
  /** The account a set-password link is for. */
  userId: number | null;
  invitedBy: number | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

const COLUMNS = 'id, email, purpose, tenant_id, role, user_id, invited_by, created_at, expires_at, used_at';

/** The invitations table: the only place that reads it. */
@Injectable()
export class InvitationsRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async insert(
    i: Omit<Invitation, 'id' | 'usedAt'> & { tokenHash: string },
    tx: Sql = this.db,
  ): Promise<number> {
    const { insertId } = await tx.exec(
      `INSERT INTO invitations (token_hash, email, purpose, tenant_id, role, user_id, invited_by, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        i.tokenHash,
        i.email,
        i.purpose,
        i.tenantId,
        i.role,
        i.userId,
        i.invitedBy,
        this.dialect.date(i.createdAt),
        this.dialect.date(i.expiresAt),
      ],
    );
    return insertId;
  }

  async byHash(tokenHash: string): Promise<Invitation | null> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM invitations WHERE token_hash = ?`, [tokenHash]);
    return row ? toInvitation(row) : null;
  }

  /**
   * Uses the link up: true for exactly one caller however many try at once (the row is updated only
   * while unused and unexpired), so a link shared twice still makes one account.
   */
  async consume(id: number, at: Date, tx: Sql): Promise<boolean> {
    const now = this.dialect.date(at);
    const { affected } = await tx.exec(
      'UPDATE invitations SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?',
      [now, id, now],
    );
    return affected > 0;
  }

  /** Earlier unused links for the same purpose and address end when a new one is made. */
  async supersede(email: string, purpose: InvitationPurpose, tenantId: number | null, at: Date, tx: Sql) {
    await tx.exec(
      `UPDATE invitations SET expires_at = ? WHERE email = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
       AND ${tenantId === null ? 'tenant_id IS NULL' : 'tenant_id = ?'}`,
      [
        this.dialect.date(at),
        email,
        purpose,
        this.dialect.date(at),
        ...(tenantId === null ? [] : [tenantId]),
      ],
    );
  }

  /** A tenant's invitations not yet accepted and still valid, newest first. */
  async pending(tenantId: number, now: Date): Promise<Invitation[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM invitations WHERE tenant_id = ? AND purpose = 'invite' AND used_at IS NULL
       AND expires_at > ? ORDER BY id DESC LIMIT 200`,
      [tenantId, this.dialect.date(now)],
    );
    return rows.map(toInvitation);
  }

  /** Ends a pending invitation of this tenant now; false when there was none. */
  async revoke(tenantId: number, id: number, at: Date): Promise<Invitation | null> {
    const [row] = await this.db.query(
      `SELECT ${COLUMNS} FROM invitations WHERE id = ? AND tenant_id = ? AND used_at IS NULL AND expires_at > ?`,
      [id, tenantId, this.dialect.date(at)],
    );
    if (!row) return null;
    await this.db.exec('UPDATE invitations SET expires_at = ? WHERE id = ?', [this.dialect.date(at), id]);
    return toInvitation(row);
  }

  /** Deletes links that expired before `before` (used links end their life at their expiry too). */
  async prune(before: Date): Promise<void> {
    await this.db.exec('DELETE FROM invitations WHERE expires_at < ?', [this.dialect.date(before)]);
  }
}

function toInvitation(r: Record<string, unknown>): Invitation {
  return {
    id: readNum(r.id),
    email: String(r.email),
    purpose: r.purpose as InvitationPurpose,
    tenantId: readNumOrNull(r.tenant_id),
    role: (r.role as Role | null) ?? null,
    userId: readNumOrNull(r.user_id),
    invitedBy: readNumOrNull(r.invited_by),
    createdAt: readDate(r.created_at)!,
    expiresAt: readDate(r.expires_at)!,
    usedAt: readDate(r.used_at),
  };
}
