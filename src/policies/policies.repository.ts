import { Injectable } from '@nestjs/common';
import { Db, Sql } from '../database/db';
import { Dialect } from '../database/dialect';
import { chunks, placeholders, readDate, readJson, readNum } from '../database/sql';

export interface PolicyRow {
  id: number;
  policyType: string;
  externalId: string;
  displayName: string;
  platform: string;
  payloadHash: string;
  lastSyncRunId: number | null;
  lastSeenAt: Date;
  removedAt: Date | null;
}

export interface SnapshotRow {
  policyType: string;
  externalId: string;
  displayName: string;
  payloadHash: string;
}

/** A policy as a sync captured it: normalized payload, its hash, and where it came from. */
export interface CapturedPolicy {
  policyType: string;
  externalId: string;
  displayName: string;
  platform: string;
  normalized: unknown;
  hash: string;
}

/** The columns the Policies list sorts by. */
export const POLICY_SORT_KEYS = ['name', 'type', 'seen'] as const;
export type PolicySortKey = (typeof POLICY_SORT_KEYS)[number];
export interface PolicySort {
  by: PolicySortKey;
  dir: 'asc' | 'desc';
}

export interface PolicyFilter {
  tenantId: number;
  search?: string;
  type?: string;
  /** Only what this inventory.sync run captured. */
  syncRunId?: number;
  includeRemoved?: boolean;
}

const POLICY_COLUMNS =
  'id, policy_type, external_id, display_name, platform, payload_hash, last_sync_run_id, last_seen_at, removed_at';

/** The policies, inventory_snapshot_items and policy_payloads tables. */
@Injectable()
export class PoliciesRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async count(f: PolicyFilter): Promise<number> {
    const q = this.filter(f);
    return readNum(
      (await this.db.query(`SELECT COUNT(*) AS n FROM ${q.from} WHERE ${q.where}`, q.params))[0].n,
    );
  }

  /** A page of the current policies, or of one sync's snapshot, by name unless `sort` says otherwise. */
  async page(f: PolicyFilter, offset: number, limit: number, sort?: PolicySort): Promise<PolicyRow[]> {
    const q = this.filter(f, sort);
    const col = q.col;
    const rows = await this.db.query(
      `SELECT p.id, ${col('policy_type')} AS policy_type, ${col('external_id')} AS external_id, ${col('display_name')} AS display_name,
              ${col('platform')} AS platform, ${col('payload_hash')} AS payload_hash, p.last_sync_run_id, p.last_seen_at, p.removed_at
       FROM ${q.from} WHERE ${q.where} ORDER BY ${q.order} LIMIT ${Math.trunc(limit)} OFFSET ${Math.trunc(offset)}`,
      q.params,
    );
    return rows.map(toPolicy);
  }

  /** Ids of the current policies matching a filter, in page order, at most `limit`. */
  async ids(f: PolicyFilter, limit: number): Promise<number[]> {
    const q = this.filter(f);
    const rows = await this.db.query(
      `SELECT p.id FROM ${q.from} WHERE ${q.where} ORDER BY ${q.order} LIMIT ${Math.trunc(limit)}`,
      q.params,
    );
    return rows.map((r) => readNum(r.id));
  }

  /**
   * FROM, WHERE and ORDER BY of a policy query: the current policies, or the items of one sync's
   * snapshot. The ORDER BY is built from a whitelist only, and ends in a unique key (the policy's id,
   * or a snapshot item's type and external id), so offset pages never repeat or skip a row. Each sort
   * of the current policies walks an index: ix_policies_tenant_name, ix_policies_tenant_type_name,
   * ix_policies_tenant_seen.
   */
  private filter(f: PolicyFilter, sort: PolicySort = { by: 'name', dir: 'asc' }) {
    const where: string[] = [];
    const params: unknown[] = [];
    let from: string;
    if (f.syncRunId) {
      from =
        'inventory_snapshot_items s LEFT JOIN policies p ON p.tenant_id = s.tenant_id AND p.policy_type = s.policy_type AND p.external_id = s.external_id';
      where.push('s.run_id = ? AND s.tenant_id = ?');
      params.push(f.syncRunId, f.tenantId);
    } else {
      from = 'policies p';
      where.push('p.tenant_id = ?');
      params.push(f.tenantId);
      if (!f.includeRemoved) where.push('p.removed_at IS NULL');
    }
    const col = (name: string) => (f.syncRunId ? `s.${name}` : `p.${name}`);
    if (f.type) {
      where.push(`${col('policy_type')} = ?`);
      params.push(f.type);
    }
    if (f.search) {
      const like = this.dialect.contains(col('display_name'), f.search);
      where.push(like.sql);
      params.push(like.param);
    }
    const d = sort.dir === 'desc' ? ' DESC' : '';
    const tieBreak = f.syncRunId ? ['s.policy_type', 's.external_id'] : ['p.id'];
    const columns = {
      name: [col('display_name')],
      type: [col('policy_type'), col('display_name')],
      seen: ['p.last_seen_at'],
    }[sort.by];
    return {
      from,
      where: where.join(' AND '),
      params,
      col,
      order: [...columns, ...tieBreak.filter((c) => !columns.includes(c))].map((c) => `${c}${d}`).join(', '),
    };
  }

  async byIds(tenantId: number, ids: number[]): Promise<PolicyRow[]> {
    const out: PolicyRow[] = [];
    for (const part of chunks(ids, 500)) {
      const rows = await this.db.query(
        `SELECT ${POLICY_COLUMNS} FROM policies WHERE tenant_id = ? AND id IN (${placeholders(part.length)})`,
        [tenantId, ...part],
      );
      out.push(...rows.map(toPolicy));
    }
    return out;
  }

  /** A snapshot's items (hashes only), optionally limited to some policy types. */
  async snapshot(tenantId: number, runId: number, types?: string[]): Promise<SnapshotRow[]> {
    const typeSql = types?.length ? ` AND policy_type IN (${placeholders(types.length)})` : '';
    const rows = await this.db.query(
      `SELECT policy_type, external_id, display_name, payload_hash FROM inventory_snapshot_items
       WHERE run_id = ? AND tenant_id = ?${typeSql}`,
      [runId, tenantId, ...(types ?? [])],
    );
    return rows.map((r) => ({
      policyType: String(r.policy_type),
      externalId: String(r.external_id),
      displayName: String(r.display_name),
      payloadHash: String(r.payload_hash),
    }));
  }

  async payloads(tenantId: number, hashes: string[]): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (const part of chunks([...new Set(hashes)], 500)) {
      const rows = await this.db.query<{ payload_hash: string; payload: string }>(
        `SELECT payload_hash, payload FROM policy_payloads WHERE tenant_id = ? AND payload_hash IN (${placeholders(part.length)})`,
        [tenantId, ...part],
      );
      for (const r of rows) out.set(r.payload_hash, readJson(r.payload, null));
    }
    return out;
  }

  /** Stores normalized payloads once per content hash (idempotent). */
  async insertPayloads(tx: Sql, tenantId: number, items: CapturedPolicy[]): Promise<void> {
    const at = this.dialect.date(new Date());
    const seen = new Set<string>();
    const rows = items
      .filter((i) => !seen.has(i.hash) && seen.add(i.hash))
      .map((i) => [tenantId, i.hash, JSON.stringify(i.normalized), at]);
    for (const part of chunks(rows, 200)) {
      const s = this.dialect.insertIgnore(
        'policy_payloads',
        ['tenant_id', 'payload_hash', 'payload', 'created_at'],
        part,
      );
      await tx.exec(s.sql, s.params);
    }
  }

  /** One sync batch: payloads, the snapshot rows and the current inventory, in the caller's transaction. */
  async writeSyncBatch(tx: Sql, tenantId: number, runId: number, captured: CapturedPolicy[]): Promise<void> {
    await this.insertPayloads(tx, tenantId, captured);
    const at = this.dialect.date(new Date());
    const snapshot = this.dialect.insertIgnore(
      'inventory_snapshot_items',
      ['run_id', 'policy_type', 'external_id', 'tenant_id', 'display_name', 'platform', 'payload_hash'],
      captured.map((c) => [
        runId,
        c.policyType,
        c.externalId,
        tenantId,
        c.displayName.slice(0, 255),
        c.platform,
        c.hash,
      ]),
    );
    await tx.exec(snapshot.sql, snapshot.params);
    const current = this.dialect.upsert(
      'policies',
      [
        'tenant_id',
        'policy_type',
        'external_id',
        'display_name',
        'platform',
        'payload_hash',
        'last_sync_run_id',
        'first_seen_at',
        'last_seen_at',
        'removed_at',
      ],
      captured.map((c) => [
        tenantId,
        c.policyType,
        c.externalId,
        c.displayName.slice(0, 255),
        c.platform,
        c.hash,
        runId,
        at,
        at,
        null,
      ]),
      ['tenant_id', 'policy_type', 'external_id'],
      ['display_name', 'platform', 'payload_hash', 'last_sync_run_id', 'last_seen_at', 'removed_at'],
    );
    await tx.exec(current.sql, current.params);
  }

  /**
   * Policies this sync did not see are gone upstream — except those of types it could not read,
   * which keep their earlier state.
   */
  async markUnseenRemoved(
    tx: Sql,
    tenantId: number,
    runId: number,
    unreadTypes: string[] = [],
  ): Promise<void> {
    const keep = unreadTypes.length ? ` AND policy_type NOT IN (${placeholders(unreadTypes.length)})` : '';
    await tx.exec(
      `UPDATE policies SET removed_at = ? WHERE tenant_id = ? AND removed_at IS NULL AND (last_sync_run_id IS NULL OR last_sync_run_id <> ?)${keep}`,
      [this.dialect.date(new Date()), tenantId, runId, ...unreadTypes],
    );
  }
}

function toPolicy(r: Record<string, unknown>): PolicyRow {
  return {
    id: readNum(r.id),
    policyType: String(r.policy_type),
    externalId: String(r.external_id),
    displayName: String(r.display_name),
    platform: String(r.platform),
    payloadHash: String(r.payload_hash),
    lastSyncRunId:
      r.last_sync_run_id === null || r.last_sync_run_id === undefined ? null : readNum(r.last_sync_run_id),
    lastSeenAt: readDate(r.last_seen_at)!,
    removedAt: readDate(r.removed_at),
  };
}
