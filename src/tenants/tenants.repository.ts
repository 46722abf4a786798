import { Injectable } from '@nestjs/common';
import { Db, Sql } from '../database/db';
import { Dialect } from '../database/dialect';
import { readDate, readNum } from '../database/sql';
import { Role, Tenant, TenantMembership } from './tenant';

const TENANT_COLUMNS = 'id, slug, name, created_at';

/** The tenants and memberships tables. */
@Injectable()
export class TenantsRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async bySlug(slug: string): Promise<Tenant | null> {
    const [row] = await this.db.query(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE slug = ?`, [slug]);
    return row ? toTenant(row) : null;
  }

  async byId(id: number): Promise<Tenant | null> {
    const [row] = await this.db.query(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = ?`, [id]);
    return row ? toTenant(row) : null;
  }

  async all(): Promise<Tenant[]> {
    return (await this.db.query(`SELECT ${TENANT_COLUMNS} FROM tenants ORDER BY id`)).map(toTenant);
  }

  async count(): Promise<number> {
    return readNum((await this.db.query('SELECT COUNT(*) AS n FROM tenants'))[0].n);
  }

  async insert(slug: string, name: string, at: Date, db: Sql = this.db): Promise<number> {
    const { insertId } = await db.exec('INSERT INTO tenants (slug, name, created_at) VALUES (?, ?, ?)', [
      slug,
      name,
      this.dialect.date(at),
    ]);
    return insertId;
  }

  /** The tenants a user is a member of, with their role in each. */
  async membershipsOf(userId: number): Promise<TenantMembership[]> {
    const rows = await this.db.query(
      `SELECT t.id, t.slug, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
       WHERE m.user_id = ? ORDER BY t.id`,
      [userId],
    );
    return rows.map((r) => ({
      id: readNum(r.id),
      slug: String(r.slug),
      name: String(r.name),
      role: r.role as Role,
    }));
  }

  async insertMembership(tenantId: number, userId: number, role: Role, at: Date, db: Sql = this.db) {
    await db.exec('INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?, ?, ?, ?)', [
      tenantId,
      userId,
      role,
      this.dialect.date(at),
    ]);
  }

  async deleteMembership(tenantId: number, userId: number): Promise<void> {
    await this.db.exec('DELETE FROM memberships WHERE tenant_id = ? AND user_id = ?', [tenantId, userId]);
  }
}

function toTenant(r: Record<string, unknown>): Tenant {
  return {
    id: readNum(r.id),
    slug: String(r.slug),
    name: String(r.name),
    createdAt: readDate(r.created_at)!,
  };
}
