import { TenantPolicySource } from './tenant-policy-source';
import { Inject, Injectable } from '@nestjs/common';
import { offsetBatches } from '../common/table-params';
import type { Sql } from '../database/db';
import { RunsService } from '../runs';
import { normalizePayload, payloadHash } from './normalize-payload';
import {
  CapturedPolicy,
  PoliciesRepository,
  PolicyRow,
  PolicySort,
  SnapshotRow,
} from './policies.repository';
import {
  POLICY_SOURCE,
  PolicySource,
  PolicySourceTenant,
  PolicyTypeListing,
  SourcePolicy,
} from './policy-source';

/** The run type whose runs write inventory snapshots (the inventory module produces it). */
export const INVENTORY_SYNC = 'inventory.sync';

export interface PolicyQuery {
  search?: string;
  type?: string;
  /** Only what this inventory.sync run captured. */
  syncRunId?: number;
  includeRemoved?: boolean;
  /** By name (A to Z) when absent. */
  sort?: PolicySort;
}

/**
 * The policies facade: a tenant's policies as of the last sync, the snapshots every sync keeps, their
 * payloads, and the tenant's policy source (POLICY_SOURCE) for producers that read upstream. Producers
 * read policies here, never from the tables.
 */
@Injectable()
export class PoliciesService {
  constructor(
    private readonly repo: PoliciesRepository,
    private readonly runs: RunsService,
    @Inject(POLICY_SOURCE) private readonly source: PolicySource,
    private readonly sources: TenantPolicySource,
  ) {}

  /** The source a tenant's policies come from: `demo` or `graph`. */
  sourceNameOf(tenantId: number): Promise<string> {
    return this.sources.sourceOf(tenantId);
  }

  /** A page of the tenant's current policies (or of one sync's snapshot), and how many match. */
  async list(
    tenantId: number,
    q: PolicyQuery & { offset: number; limit: number },
  ): Promise<{ rows: PolicyRow[]; total: number }> {
    const filter = { tenantId, ...q };
    const [total, rows] = await Promise.all([
      this.repo.count(filter),
      this.repo.page(filter, q.offset, q.limit, q.sort),
    ]);
    return { rows, total };
  }

  /** Every policy of a list, in its order, a batch at a time (for the CSV export). */
  batches(tenantId: number, q: PolicyQuery): AsyncGenerator<PolicyRow[]> {
    const filter = { tenantId, ...q };
    return offsetBatches((offset, limit) => this.repo.page(filter, offset, limit, q.sort));
  }

  /** Ids of the tenant's current policies matching a search and type, in list order (at most `limit`). */
  ids(tenantId: number, opts: { search?: string; type?: string; limit: number }): Promise<number[]> {
    return this.repo.ids({ tenantId, search: opts.search, type: opts.type }, opts.limit);
  }

  /** Policies of this tenant by id; ids of other tenants simply do not come back. */
  byIds(tenantId: number, ids: number[]): Promise<PolicyRow[]> {
    return this.repo.byIds(tenantId, ids);
  }

  async policy(tenantId: number, id: number): Promise<(PolicyRow & { payload: unknown }) | null> {
    const [row] = await this.repo.byIds(tenantId, [id]);
    if (!row) return null;
    const payloads = await this.repo.payloads(tenantId, [row.payloadHash]);
    return { ...row, payload: payloads.get(row.payloadHash) ?? null };
  }

  /** Successful syncs of a tenant, newest first: the snapshots drift can compare. */
  async successfulSyncs(
    tenantId: number,
    limit: number,
  ): Promise<Array<{ id: number; finishedAt: Date | null; count: number }>> {
    const runs = await this.runs.latestOfType(tenantId, INVENTORY_SYNC, { bucket: 'succeeded', limit });
    return runs.map((r) => ({ id: r.id, finishedAt: r.finishedAt, count: r.succeeded }));
  }

  /** A snapshot's items (hashes only), optionally limited to some policy types. */
  snapshot(tenantId: number, runId: number, types?: string[]): Promise<SnapshotRow[]> {
    return this.repo.snapshot(tenantId, runId, types);
  }

  payloadsByHash(tenantId: number, hashes: string[]): Promise<Map<string, unknown>> {
    return this.repo.payloads(tenantId, hashes);
  }

  // ── the tenant's source ────────────────────────────────────────────────────

  /** The upstream listing, type by type where the source can tell them apart. */
  async listUpstream(tenant: PolicySourceTenant): Promise<PolicyTypeListing[]> {
    if (this.source.listByType) return this.source.listByType(tenant);
    const all = await this.source.listPolicies(tenant);
    const byType = new Map<string, SourcePolicy[]>();
    for (const p of all) byType.set(p.policyType, [...(byType.get(p.policyType) ?? []), p]);
    return [...byType.entries()].map(([policyType, policies]) => ({ policyType, policies }));
  }

  /** Current upstream documents, normalized, for capture; null where the policy is gone upstream. */
  async fetchCurrent(
    tenant: PolicySourceTenant,
    keys: Array<{ policyType: string; externalId: string }>,
  ): Promise<Array<CapturedPolicy | null>> {
    const found = this.source.getPolicies
      ? await this.source.getPolicies(tenant, keys)
      : await Promise.all(keys.map((k) => this.source.getPolicy(tenant, k.policyType, k.externalId)));
    return found.map((p) => (p ? capture(p) : null));
  }

  settingLabels(tenant: PolicySourceTenant, paths: string[]): Promise<Record<string, string>> {
    return paths.length ? this.source.settingLabels(tenant, paths) : Promise.resolve({});
  }

  /** Where the tenant's source is set up (the demo switches, the Microsoft connection). */
  sourceSettingsHref(tenant: PolicySourceTenant): Promise<string | null> {
    return this.sources.settingsHrefOf(tenant);
  }

  async afterSync(tenant: PolicySourceTenant): Promise<void> {
    await this.source.afterSync?.(tenant);
  }

  // ── writes, in a producer's transaction ────────────────────────────────────

  /** Stores normalized payloads once per content hash (idempotent). */
  storePayloads(tx: Sql, tenantId: number, items: CapturedPolicy[]): Promise<void> {
    return this.repo.insertPayloads(tx, tenantId, items);
  }

  /** One sync batch: payloads, the snapshot rows and the current inventory. */
  writeSyncBatch(tx: Sql, tenantId: number, runId: number, policies: SourcePolicy[]): Promise<void> {
    return this.repo.writeSyncBatch(tx, tenantId, runId, policies.map(capture));
  }

  /** Policies this sync did not see are gone upstream, except those of types it could not read. */
  markUnseenRemoved(tx: Sql, tenantId: number, runId: number, unreadTypes: string[] = []): Promise<void> {
    return this.repo.markUnseenRemoved(tx, tenantId, runId, unreadTypes);
  }
}

/** A source document as stored: normalized, hashed. */
export function capture(p: SourcePolicy): CapturedPolicy {
  const normalized = normalizePayload(p.payload);
  return {
    policyType: p.policyType,
    externalId: p.externalId,
    // Provider names may be longer than the columns that list them; the payload keeps them whole.
    displayName: p.displayName.slice(0, 255),
    platform: p.platform.slice(0, 32),
    normalized,
    hash: payloadHash(normalized),
  };
}
