import { Injectable } from '@nestjs/common';
import { Db, Sql } from '../database/db';
import { Dialect } from '../database/dialect';
import { readDate, readNum } from '../database/sql';
import { Member, PolicySourceName, Role, Tenant, TenantInput, TenantMembership } from './tenant';

const TENANT_COLUMNS = 'id, slug, name, microsoft_tenant_id, notes, policy_source, archived_at, created_at';

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

  async byId(id: number, db: Sql = this.db): Promise<Tenant | null> {
    const [row] = await db.query(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = ?`, [id]);
    return row ? toTenant(row) : null;
  }

  async byMicrosoftId(msId: string): Promise<Tenant | null> {
    const [row] = await this.db.query(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE microsoft_tenant_id = ?`, [
      msId,
    ]);
    return row ? toTenant(row) : null;
  }

  async all(): Promise<Tenant[]> {
    return (await this.db.query(`SELECT ${TENANT_COLUMNS} FROM tenants ORDER BY name, id`)).map(toTenant);
  }

  async count(): Promise<number> {
    return readNum((await this.db.query('SELECT COUNT(*) AS n FROM tenants'))[0].n);
  }

  /** Throws the driver's unique violation for a slug or Microsoft tenant id already taken. */
  async insert(t: TenantInput, at: Date, db: Sql = this.db): Promise<number> {
    const { insertId } = await db.exec(
      'INSERT INTO tenants (slug, name, microsoft_tenant_id, notes, policy_source, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [t.slug, t.name, t.microsoftTenantId, t.notes, 'demo', this.dialect.date(at)],
    );
    return insertId;
  }

  async update(id: number, t: Omit<TenantInput, 'slug'>): Promise<void> {
    await this.db.exec('UPDATE tenants SET name = ?, microsoft_tenant_id = ?, notes = ? WHERE id = ?', [
      t.name,
      t.microsoftTenantId,
      t.notes,
      id,
    ]);
  }

  async setPolicySource(id: number, source: PolicySourceName): Promise<void> {
    await this.db.exec('UPDATE tenants SET policy_source = ? WHERE id = ?', [source, id]);
  }

  /** Archives (or restores) a tenant; false when it already was (another admin was quicker). */
  async setArchived(id: number, archived: boolean, at: Date): Promise<boolean> {
    const { affected } = await this.db.exec(
      archived
        ? 'UPDATE tenants SET archived_at = ? WHERE id = ? AND archived_at IS NULL'
        : 'UPDATE tenants SET archived_at = NULL WHERE id = ? AND archived_at IS NOT NULL',
      archived ? [this.dialect.date(at), id] : [id],
    );
    return affected > 0;
  }

  /** The tenants a user is a member of, with their role in each. */
  async membershipsOf(userId: number): Promise<TenantMembership[]> {
    const rows = await this.db.query(
      `SELECT t.id, t.slug, t.name, t.archived_at, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
       WHERE m.user_id = ? ORDER BY t.id`,
      [userId],
    );
    return rows.map((r) => ({
      id: readNum(r.id),
      slug: String(r.slug),
      name: String(r.name),
      role: r.role as Role,
      archived: r.archived_at !== null && r.archived_at !== undefined,
    }));
  }

  async memberCounts(): Promise<Map<number, number>> {
    const rows = await this.db.query('SELECT tenant_id, COUNT(*) AS n FROM memberships GROUP BY tenant_id');
    return new Map(rows.map((r) => [readNum(r.tenant_id), readNum(r.n)]));
  }

  async members(tenantId: number): Promise<Member[]> {
    const rows = await this.db.query(
      'SELECT user_id, role, created_at FROM memberships WHERE tenant_id = ? ORDER BY created_at, id',
      [tenantId],
    );
    return rows.map((r) => ({
      userId: readNum(r.user_id),
      role: r.role as Role,
      since: readDate(r.created_at)!,
    }));
  }

  async roleOf(tenantId: number, userId: number, db: Sql = this.db): Promise<Role | null> {
    const [row] = await db.query<{ role: Role }>(
      'SELECT role FROM memberships WHERE tenant_id = ? AND user_id = ?',
      [tenantId, userId],
    );
    return row?.role ?? null;
  }

  /** The tenant's owners, locked until the transaction ends (the last-owner rule reads them). */
  async lockOwners(tx: Sql, tenantId: number): Promise<number[]> {
    const rows = await tx.query<{ user_id: number }>(
      `SELECT user_id FROM memberships WHERE tenant_id = ? AND role = 'owner'${this.dialect.forUpdate()}`,
      [tenantId],
    );
    return rows.map((r) => readNum(r.user_id));
  }

  /** Throws the driver's unique violation when the user is a member already. */
  async insertMembership(tenantId: number, userId: number, role: Role, at: Date, db: Sql = this.db) {
    await db.exec('INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?, ?, ?, ?)', [
      tenantId,
      userId,
      role,
      this.dialect.date(at),
    ]);
  }

  async setRole(tx: Sql, tenantId: number, userId: number, role: Role): Promise<void> {
    await tx.exec('UPDATE memberships SET role = ? WHERE tenant_id = ? AND user_id = ?', [
      role,
      tenantId,
      userId,
    ]);
  }

  async deleteMembership(tenantId: number, userId: number, db: Sql = this.db): Promise<void> {
    await db.exec('DELETE FROM memberships WHERE tenant_id = ? AND user_id = ?', [tenantId, userId]);
  }
}

function toTenant(r: Record<string, unknown>): Tenant {
  return {
    id: readNum(r.id),
    slug: String(r.slug),
    name: String(r.name),
    microsoftTenantId: (r.microsoft_tenant_id as string | null) ?? null,
    notes: (r.notes as string | null) ?? null,
    policySource: (r.policy_source as PolicySourceName | null) ?? 'demo',
    archivedAt: readDate(r.archived_at),
    createdAt: readDate(r.created_at)!,
  };
}
