import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { Dialect } from '../database/dialect';
import { chunks, placeholders, readDate, readNum, readNumOrNull } from '../database/sql';
import type { CapturedPolicy } from '../policies';
import type { Tx } from '../runs';

export interface BackupSetRow {
  id: number;
  tenantId: number;
  name: string;
  description: string | null;
  createdBy: number | null;
  itemCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface BackupItemRow {
  id: number;
  policyId: number | null;
  policyType: string;
  externalId: string;
  displayName: string;
  payloadHash: string;
  runId: number | null;
  capturedAt: Date;
}

/** The columns the list sorts by: the only text an ORDER BY of this table is built from. */
const SET_SORT_COLUMNS = { name: 'name', items: 'item_count', updated: 'updated_at' } as const;
export type BackupSetSortKey = keyof typeof SET_SORT_COLUMNS;

export interface BackupSetQuery {
  /** Part of the set's name, any case. */
  search?: string;
  sort: { by: BackupSetSortKey; dir: 'asc' | 'desc' };
  offset: number;
  limit: number;
}

const SET_COLUMNS = 'id, tenant_id, name, description, created_by, item_count, created_at, updated_at';
const ITEM_COLUMNS =
  'id, policy_id, policy_type, external_id, display_name, payload_hash, run_id, captured_at';

/** The backup_sets and backup_items tables. */
@Injectable()
export class BackupSetsRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  /**
   * A page of the tenant's sets and how many match. The ORDER BY comes from a whitelist and ends in
   * the id, so offset pages never repeat or skip a row; each sort walks an index
   * (uq_backup_sets_tenant_name, ix_backup_sets_tenant_items, ix_backup_sets_tenant_updated).
   */
  async list(tenantId: number, q: BackupSetQuery): Promise<{ rows: BackupSetRow[]; total: number }> {
    const where = ['tenant_id = ?'];
    const params: unknown[] = [tenantId];
    if (q.search) {
      const like = this.dialect.contains('name', q.search);
      where.push(like.sql);
      params.push(like.param);
    }
    const d = q.sort.dir === 'desc' ? ' DESC' : '';
    const order = [SET_SORT_COLUMNS[q.sort.by], 'id'].map((c) => c + d).join(', ');
    const [count, rows] = await Promise.all([
      this.db.query(`SELECT COUNT(*) AS n FROM backup_sets WHERE ${where.join(' AND ')}`, params),
      this.db.query(
        `SELECT ${SET_COLUMNS} FROM backup_sets WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${Math.trunc(q.limit)} OFFSET ${Math.trunc(q.offset)}`,
        params,
      ),
    ]);
    return { rows: rows.map(toSet), total: readNum(count[0].n) };
  }

  async get(tenantId: number, id: number): Promise<BackupSetRow | null> {
    const [row] = await this.db.query(
      `SELECT ${SET_COLUMNS} FROM backup_sets WHERE id = ? AND tenant_id = ?`,
      [id, tenantId],
    );
    return row ? toSet(row) : null;
  }

  /** Throws the driver's unique violation for a duplicate name in the tenant. */
  async insert(tenantId: number, userId: number, name: string, description: string | null): Promise<number> {
    const now = this.dialect.date(new Date());
    const { insertId } = await this.db.exec(
      'INSERT INTO backup_sets (tenant_id, name, description, created_by, item_count, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)',
      [tenantId, name, description, userId, now, now],
    );
    return insertId;
  }

  async update(tenantId: number, id: number, name: string, description: string | null): Promise<void> {
    await this.db.exec(
      'UPDATE backup_sets SET name = ?, description = ?, updated_at = ? WHERE id = ? AND tenant_id = ?',
      [name, description, this.dialect.date(new Date()), id, tenantId],
    );
  }

  /** A set and its items, in one transaction (a capture under way either sees both or neither). */
  async delete(tenantId: number, id: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.exec('DELETE FROM backup_items WHERE backup_set_id = ? AND tenant_id = ?', [id, tenantId]);
      await tx.exec('DELETE FROM backup_sets WHERE id = ? AND tenant_id = ?', [id, tenantId]);
    });
  }

  async items(
    tenantId: number,
    setId: number,
    search: string | undefined,
    offset: number,
    limit: number,
  ): Promise<{ total: number; rows: BackupItemRow[] }> {
    const where = ['backup_set_id = ?', 'tenant_id = ?'];
    const params: unknown[] = [setId, tenantId];
    if (search) {
      const like = this.dialect.contains('display_name', search);
      where.push(like.sql);
      params.push(like.param);
    }
    const [count, rows] = await Promise.all([
      this.db.query(`SELECT COUNT(*) AS n FROM backup_items WHERE ${where.join(' AND ')}`, params),
      this.db.query(
        `SELECT ${ITEM_COLUMNS} FROM backup_items WHERE ${where.join(' AND ')} ORDER BY display_name, id LIMIT ${Math.trunc(limit)} OFFSET ${Math.trunc(offset)}`,
        params,
      ),
    ]);
    return { total: readNum(count[0].n), rows: rows.map(toItem) };
  }

  async item(tenantId: number, setId: number, itemId: number): Promise<BackupItemRow | null> {
    const [row] = await this.db.query(
      `SELECT ${ITEM_COLUMNS} FROM backup_items WHERE id = ? AND backup_set_id = ? AND tenant_id = ?`,
      [itemId, setId, tenantId],
    );
    return row ? toItem(row) : null;
  }

  /**
   * How many of the tenant's current policies (not removed upstream) matching a name search and type
   * the set already holds.
   */
  async inSetCount(tenantId: number, setId: number, f: { search?: string; type?: string }): Promise<number> {
    const where = ['p.tenant_id = ?', 'p.removed_at IS NULL'];
    const params: unknown[] = [tenantId];
    if (f.type) {
      where.push('p.policy_type = ?');
      params.push(f.type);
    }
    if (f.search) {
      const like = this.dialect.contains('p.display_name', f.search);
      where.push(like.sql);
      params.push(like.param);
    }
    const rows = await this.db.query(
      `SELECT COUNT(*) AS n FROM policies p WHERE ${where.join(' AND ')} AND EXISTS (SELECT 1 FROM backup_items b WHERE b.backup_set_id = ? AND b.policy_type = p.policy_type AND b.external_id = p.external_id)`,
      [...params, setId],
    );
    return readNum(rows[0].n);
  }

  /** Which of these policies the set already holds, as `type:externalId`. */
  async existingKeys(
    setId: number,
    keys: Array<{ policyType: string; externalId: string }>,
  ): Promise<Set<string>> {
    const out = new Set<string>();
    for (const part of chunks(keys, 500)) {
      const rows = await this.db.query<{ policy_type: string; external_id: string }>(
        `SELECT policy_type, external_id FROM backup_items WHERE backup_set_id = ? AND external_id IN (${placeholders(part.length)})`,
        [setId, ...part.map((k) => k.externalId)],
      );
      for (const r of rows) out.add(`${r.policy_type}:${r.external_id}`);
    }
    return out;
  }

  /**
   * Whether the set still exists, locking it until the transaction ends so it cannot be deleted
   * between this check and the items written after it.
   */
  async lockSet(tx: Tx, tenantId: number, setId: number): Promise<boolean> {
    const rows = await tx.query(
      `SELECT id FROM backup_sets WHERE id = ? AND tenant_id = ?${this.dialect.forUpdate()}`,
      [setId, tenantId],
    );
    return rows.length > 0;
  }

  /** Captured policies into a set (an item already there is left as it is), and the set's count. */
  async addItems(
    tx: Tx,
    tenantId: number,
    setId: number,
    runId: number,
    items: Array<{ policyId: number; c: CapturedPolicy }>,
  ): Promise<void> {
    const at = this.dialect.date(new Date());
    const insert = this.dialect.insertIgnore(
      'backup_items',
      [
        'backup_set_id',
        'tenant_id',
        'policy_id',
        'policy_type',
        'external_id',
        'display_name',
        'payload_hash',
        'run_id',
        'captured_at',
      ],
      items.map(({ policyId, c }) => [
        setId,
        tenantId,
        policyId,
        c.policyType,
        c.externalId,
        c.displayName.slice(0, 255),
        c.hash,
        runId,
        at,
      ]),
    );
    await tx.exec(insert.sql, insert.params);
    await tx.exec(
      'UPDATE backup_sets SET item_count = (SELECT COUNT(*) FROM backup_items WHERE backup_set_id = ?), updated_at = ? WHERE id = ?',
      [setId, at, setId],
    );
  }
}

function toSet(r: Record<string, unknown>): BackupSetRow {
  return {
    id: readNum(r.id),
    tenantId: readNum(r.tenant_id),
    name: String(r.name),
    description: (r.description as string | null) ?? null,
    createdBy: readNumOrNull(r.created_by),
    itemCount: readNum(r.item_count),
    createdAt: readDate(r.created_at)!,
    updatedAt: readDate(r.updated_at)!,
  };
}

function toItem(r: Record<string, unknown>): BackupItemRow {
  return {
    id: readNum(r.id),
    policyId: readNumOrNull(r.policy_id),
    policyType: String(r.policy_type),
    externalId: String(r.external_id),
    displayName: String(r.display_name),
    payloadHash: String(r.payload_hash),
    runId: readNumOrNull(r.run_id),
    capturedAt: readDate(r.captured_at)!,
  };
}
