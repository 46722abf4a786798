import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import { textParam } from '../common/query-params';
import { DataSource, EntityManager } from 'typeorm';
import {
  chunks,
  containsClause,
  fromDbDate,
  insertIgnore,
  parseJson,
  toDbDate,
  upsertRows,
} from '../database/sql';
import { splitRunType } from '../runs/run-status';
import { RunsService, StartRunResult } from '../runs/runs.service';
import { INVENTORY_SYNC } from './inventory.queue';
import { normalizePayload, payloadHash } from './normalize-payload';
import { POLICY_SOURCE, PolicySource, PolicySourceTenant, SourcePolicy } from './policy-source';

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

export interface PolicyQuery {
  search?: string;
  type?: string;
  /** Only what this inventory.sync run captured. */
  syncRunId?: number;
  includeRemoved?: boolean;
  offset: number;
  limit: number;
}

export const POLICY_TYPE_LABELS: Record<string, string> = {
  deviceConfiguration: 'Device configuration',
  compliancePolicy: 'Compliance',
  settingsCatalog: 'Settings catalog',
  appProtection: 'App protection',
  endpointSecurity: 'Endpoint security',
};

export function policyTypeLabel(type: string): string {
  return POLICY_TYPE_LABELS[type] ?? type;
}

/** A policy-type filter from the query: a known type, absent, or a readable 400. */
export function policyTypeParam(v: unknown, max: number): string | undefined {
  const type = textParam(v, 'type', max);
  if (type && !(type in POLICY_TYPE_LABELS)) throw AppError.badRequest(`Unknown policy type "${type}".`);
  return type;
}

/** The policy types as the options of a filter, `selected` marked. */
export function policyTypeOptions(selected: string | undefined) {
  return Object.entries(POLICY_TYPE_LABELS).map(([value, label]) => ({
    value,
    label,
    selected: value === selected,
  }));
}

export interface CapturedPolicy {
  policyType: string;
  externalId: string;
  displayName: string;
  normalized: unknown;
  hash: string;
}

/**
 * The inventory facade: the tenant's policies as of the last sync, the snapshots every sync keeps,
 * and access to the tenant's policy source for other producers.
 */
@Injectable()
export class InventoryService {
  constructor(
    private readonly ds: DataSource,
    private readonly runs: RunsService,
    @Inject(POLICY_SOURCE) private readonly source: PolicySource,
  ) {}

  private get mysql(): boolean {
    return this.ds.options.type === 'mysql';
  }

  /** Starts inventory.sync, or returns the sync already queued or running for the tenant. */
  startSync(tenantId: number, userId: number | null): Promise<StartRunResult> {
    return this.runs.start({
      tenantId,
      userId,
      type: INVENTORY_SYNC,
      idempotencyKey: INVENTORY_SYNC,
      payload: { source: this.source.name },
    });
  }

  async listPolicies(tenantId: number, q: PolicyQuery): Promise<{ rows: PolicyRow[]; total: number }> {
    const { from, where, params, col, order } = this.policyFilter(tenantId, q);
    const [{ n }] = await this.ds.query(`SELECT COUNT(*) AS n FROM ${from} WHERE ${where}`, params);
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT p.id, ${col('policy_type')} AS policy_type, ${col('external_id')} AS external_id, ${col('display_name')} AS display_name,
              ${col('platform')} AS platform, ${col('payload_hash')} AS payload_hash, p.last_sync_run_id, p.last_seen_at, p.removed_at
       FROM ${from} WHERE ${where}
       ORDER BY ${order} LIMIT ${q.limit} OFFSET ${q.offset}`,
      params,
    );
    return { rows: raw.map((r) => this.toPolicy(r)), total: Number(n) };
  }

  /** FROM, WHERE and ORDER BY of a policy query: the current policies, or the items of one sync's snapshot. */
  private policyFilter(tenantId: number, q: Omit<PolicyQuery, 'offset' | 'limit'>) {
    const where: string[] = [];
    const params: unknown[] = [];
    let from: string;
    if (q.syncRunId) {
      from =
        'inventory_snapshot_items s LEFT JOIN policies p ON p.tenant_id = s.tenant_id AND p.policy_type = s.policy_type AND p.external_id = s.external_id';
      where.push('s.run_id = ? AND s.tenant_id = ?');
      params.push(q.syncRunId, tenantId);
    } else {
      from = 'policies p';
      where.push('p.tenant_id = ?');
      params.push(tenantId);
      if (!q.includeRemoved) where.push('p.removed_at IS NULL');
    }
    const col = (name: string) => (q.syncRunId ? `s.${name}` : `p.${name}`);
    if (q.type) {
      where.push(`${col('policy_type')} = ?`);
      params.push(q.type);
    }
    if (q.search) {
      const like = containsClause(col('display_name'), q.search, this.mysql);
      where.push(like.sql);
      params.push(like.param);
    }
    return {
      from,
      where: where.join(' AND '),
      params,
      col,
      order: `${col('display_name')}, ${col('external_id')}`,
    };
  }

  /** Policies of this tenant by id; ids of other tenants simply do not come back. */
  async policiesByIds(tenantId: number, ids: number[]): Promise<PolicyRow[]> {
    const out: PolicyRow[] = [];
    for (const part of chunks(ids, 500)) {
      const raw: Record<string, unknown>[] = await this.ds.query(
        `SELECT id, policy_type, external_id, display_name, platform, payload_hash, last_sync_run_id, last_seen_at, removed_at
         FROM policies WHERE tenant_id = ? AND id IN (${part.map(() => '?').join(', ')})`,
        [tenantId, ...part],
      );
      out.push(...raw.map((r) => this.toPolicy(r)));
    }
    return out;
  }

  /** Ids of the tenant's current policies matching a search, for "select all matching". */
  async policyIdsMatching(
    tenantId: number,
    search: string | undefined,
    type: string | undefined,
    cap: number,
  ): Promise<number[]> {
    const { from, where, params, order } = this.policyFilter(tenantId, { search, type });
    const raw: Array<{ id: number | string }> = await this.ds.query(
      `SELECT p.id FROM ${from} WHERE ${where} ORDER BY ${order} LIMIT ${Math.trunc(cap)}`,
      params,
    );
    return raw.map((r) => Number(r.id));
  }

  async policy(tenantId: number, id: number): Promise<(PolicyRow & { payload: unknown }) | null> {
    const [row] = await this.policiesByIds(tenantId, [id]);
    if (!row) return null;
    const payloads = await this.payloadsByHash(tenantId, [row.payloadHash]);
    return { ...row, payload: payloads.get(row.payloadHash) ?? null };
  }

  /** Successful syncs of a tenant, newest first: the snapshots drift can compare. */
  async successfulSyncs(
    tenantId: number,
    limit: number,
  ): Promise<Array<{ id: number; finishedAt: Date | null; count: number }>> {
    const type = splitRunType(INVENTORY_SYNC);
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT id, finished_at, succeeded FROM operation_runs
       WHERE tenant_id = ? AND resource = ? AND action = ? AND status_bucket = 'succeeded'
       ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
      [tenantId, type.resource, type.action],
    );
    return raw.map((r) => ({
      id: Number(r.id),
      finishedAt: fromDbDate(r.finished_at),
      count: Number(r.succeeded),
    }));
  }

  /** A snapshot's items (hashes only), optionally limited to some policy types. */
  async snapshot(tenantId: number, runId: number, types?: string[]): Promise<SnapshotRow[]> {
    const typeSql = types?.length ? ` AND policy_type IN (${types.map(() => '?').join(', ')})` : '';
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT policy_type, external_id, display_name, payload_hash FROM inventory_snapshot_items
       WHERE run_id = ? AND tenant_id = ?${typeSql}`,
      [runId, tenantId, ...(types ?? [])],
    );
    return raw.map((r) => ({
      policyType: String(r.policy_type),
      externalId: String(r.external_id),
      displayName: String(r.display_name),
      payloadHash: String(r.payload_hash),
    }));
  }

  async payloadsByHash(tenantId: number, hashes: string[]): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (const part of chunks([...new Set(hashes)], 500)) {
      const raw: Array<{ payload_hash: string; payload: string }> = await this.ds.query(
        `SELECT payload_hash, payload FROM policy_payloads WHERE tenant_id = ? AND payload_hash IN (${part.map(() => '?').join(', ')})`,
        [tenantId, ...part],
      );
      for (const r of raw) out.set(r.payload_hash, parseJson(r.payload, null));
    }
    return out;
  }

  /** Current upstream documents, normalized, for capture; null where the policy is gone upstream. */
  async fetchCurrent(
    tenant: PolicySourceTenant,
    keys: Array<{ policyType: string; externalId: string }>,
  ): Promise<Array<CapturedPolicy | null>> {
    const found = this.source.getPolicies
      ? await this.source.getPolicies(tenant, keys)
      : await Promise.all(keys.map((k) => this.source.getPolicy(tenant, k.policyType, k.externalId)));
    return found.map((p) => (p ? this.capture(p) : null));
  }

  settingLabels(tenant: PolicySourceTenant, paths: string[]): Promise<Record<string, string>> {
    return paths.length ? this.source.settingLabels(tenant, paths) : Promise.resolve({});
  }

  capture(p: SourcePolicy): CapturedPolicy {
    const normalized = normalizePayload(p.payload);
    return {
      policyType: p.policyType,
      externalId: p.externalId,
      displayName: p.displayName,
      normalized,
      hash: payloadHash(normalized),
    };
  }

  /** Stores normalized payloads once per content hash (idempotent). */
  async storePayloads(em: EntityManager, tenantId: number, items: CapturedPolicy[]): Promise<void> {
    const at = toDbDate(new Date(), this.mysql);
    const seen = new Set<string>();
    const rows = items
      .filter((i) => !seen.has(i.hash) && seen.add(i.hash))
      .map((i) => [tenantId, i.hash, JSON.stringify(i.normalized), at]);
    for (const part of chunks(rows, 200)) {
      await insertIgnore(
        em,
        this.mysql,
        'policy_payloads',
        ['tenant_id', 'payload_hash', 'payload', 'created_at'],
        part,
      );
    }
  }

  /** One sync batch: payloads, the snapshot rows and the current inventory, in the caller's transaction. */
  async writeSyncBatch(
    em: EntityManager,
    tenantId: number,
    runId: number,
    policies: SourcePolicy[],
  ): Promise<void> {
    const captured = policies.map((p) => ({ ...this.capture(p), platform: p.platform }));
    await this.storePayloads(em, tenantId, captured);
    const at = toDbDate(new Date(), this.mysql);
    await insertIgnore(
      em,
      this.mysql,
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
    await upsertRows(
      em,
      this.mysql,
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
  }

  /** Policies this sync did not see are gone upstream. */
  async markUnseenRemoved(em: EntityManager, tenantId: number, runId: number): Promise<void> {
    await em.query(
      'UPDATE policies SET removed_at = ? WHERE tenant_id = ? AND removed_at IS NULL AND (last_sync_run_id IS NULL OR last_sync_run_id <> ?)',
      [toDbDate(new Date(), this.mysql), tenantId, runId],
    );
  }

  async listUpstream(tenant: PolicySourceTenant): Promise<SourcePolicy[]> {
    return this.source.listPolicies(tenant);
  }

  async afterSync(tenant: PolicySourceTenant): Promise<void> {
    await this.source.afterSync?.(tenant);
  }

  private toPolicy(r: Record<string, unknown>): PolicyRow {
    return {
      id: Number(r.id),
      policyType: String(r.policy_type),
      externalId: String(r.external_id),
      displayName: String(r.display_name),
      platform: String(r.platform),
      payloadHash: String(r.payload_hash),
      lastSyncRunId:
        r.last_sync_run_id === null || r.last_sync_run_id === undefined ? null : Number(r.last_sync_run_id),
      lastSeenAt: fromDbDate(r.last_seen_at)!,
      removedAt: fromDbDate(r.removed_at),
    };
  }
}
