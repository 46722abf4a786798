import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppError } from '../common/app-error';
import { chunks, containsClause, exec, fromDbDate, isUniqueViolation, toDbDate } from '../database/sql';
import { splitRunType } from '../runs/run-status';
import { InventoryService } from '../inventory/inventory.service';
import { RunsService, StartRunResult } from '../runs/runs.service';
import { BACKUP_ADD_POLICIES } from './backup-sets.queue';

export interface BackupSetRow {
  id: number;
  tenantId: number;
  name: string;
  description: string | null;
  createdBy: number | null;
  createdByName: string | null;
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

/** Largest selection one run takes; beyond it the operator narrows the search. */
export const MAX_SELECTION = 20_000;

@Injectable()
export class BackupSetsService {
  constructor(
    private readonly ds: DataSource,
    private readonly inventory: InventoryService,
    private readonly runs: RunsService,
  ) {}

  private get mysql(): boolean {
    return this.ds.options.type === 'mysql';
  }

  async list(tenantId: number): Promise<BackupSetRow[]> {
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT s.*, u.name AS created_by_name FROM backup_sets s LEFT JOIN users u ON u.id = s.created_by
       WHERE s.tenant_id = ? ORDER BY s.name`,
      [tenantId],
    );
    return raw.map((r) => this.toSet(r));
  }

  /** A set of this tenant, or not-found (another tenant's set is indistinguishable from none). */
  async get(tenantId: number, id: number): Promise<BackupSetRow> {
    const [r] = await this.ds.query(
      `SELECT s.*, u.name AS created_by_name FROM backup_sets s LEFT JOIN users u ON u.id = s.created_by
       WHERE s.id = ? AND s.tenant_id = ?`,
      [id, tenantId],
    );
    if (!r) throw AppError.notFound('Backup set');
    return this.toSet(r);
  }

  async create(tenantId: number, userId: number, name: string, description: string | null): Promise<number> {
    const { n, d } = this.validate(name, description);
    const now = toDbDate(new Date(), this.mysql);
    try {
      const { insertId } = await exec(
        this.ds.manager,
        'INSERT INTO backup_sets (tenant_id, name, description, created_by, item_count, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)',
        [tenantId, n, d, userId, now, now],
      );
      return insertId;
    } catch (e) {
      if (isUniqueViolation(e))
        throw AppError.badRequest(`A backup set named "${n}" already exists in this tenant.`);
      throw e;
    }
  }

  async rename(tenantId: number, id: number, name: string, description: string | null): Promise<void> {
    await this.get(tenantId, id);
    const { n, d } = this.validate(name, description);
    try {
      await this.ds.query(
        'UPDATE backup_sets SET name = ?, description = ?, updated_at = ? WHERE id = ? AND tenant_id = ?',
        [n, d, toDbDate(new Date(), this.mysql), id, tenantId],
      );
    } catch (e) {
      if (isUniqueViolation(e))
        throw AppError.badRequest(`A backup set named "${n}" already exists in this tenant.`);
      throw e;
    }
  }

  /** Deletes a set and its items; returns the set as it was. */
  async delete(tenantId: number, id: number) {
    const set = await this.get(tenantId, id);
    await this.ds.query('DELETE FROM backup_items WHERE backup_set_id = ? AND tenant_id = ?', [id, tenantId]);
    await this.ds.query('DELETE FROM backup_sets WHERE id = ? AND tenant_id = ?', [id, tenantId]);
    return set;
  }

  async items(tenantId: number, setId: number, search: string | undefined, offset: number, limit: number) {
    const where = ['backup_set_id = ?', 'tenant_id = ?'];
    const params: unknown[] = [setId, tenantId];
    if (search) {
      const like = containsClause('display_name', search, this.mysql);
      where.push(like.sql);
      params.push(like.param);
    }
    const [{ n }] = await this.ds.query(
      `SELECT COUNT(*) AS n FROM backup_items WHERE ${where.join(' AND ')}`,
      params,
    );
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT * FROM backup_items WHERE ${where.join(' AND ')} ORDER BY display_name, id LIMIT ${limit} OFFSET ${offset}`,
      params,
    );
    return { total: Number(n), rows: raw.map((r) => this.toItem(r)) };
  }

  async item(tenantId: number, setId: number, itemId: number): Promise<BackupItemRow & { payload: unknown }> {
    const [r] = await this.ds.query(
      'SELECT * FROM backup_items WHERE id = ? AND backup_set_id = ? AND tenant_id = ?',
      [itemId, setId, tenantId],
    );
    if (!r) throw AppError.notFound('Backup item');
    const item = this.toItem(r);
    const payloads = await this.inventory.payloadsByHash(tenantId, [item.payloadHash]);
    return { ...item, payload: payloads.get(item.payloadHash) ?? null };
  }

  /**
   * Starts backup_set.add_policies over the selection, or returns the run already working on the same
   * set and selection. Every id must be a policy of this tenant: one stranger refuses the whole request.
   */
  async startAddPolicies(
    tenantId: number,
    userId: number,
    setId: number,
    policyIds: number[],
  ): Promise<StartRunResult> {
    const set = await this.get(tenantId, setId);
    const ids = [...new Set(policyIds)].sort((a, b) => a - b);
    if (!ids.length) throw AppError.badRequest('Select at least one policy to add.');
    if (ids.length > MAX_SELECTION)
      throw AppError.badRequest(`Select at most ${MAX_SELECTION.toLocaleString('en-US')} policies per run.`);
    const found = await this.inventory.policiesByIds(tenantId, ids);
    if (found.length !== ids.length) {
      const known = new Set(found.map((p) => p.id));
      const strangers = ids.filter((id) => !known.has(id));
      throw AppError.badRequest(
        `${strangers.length} selected polic${strangers.length === 1 ? 'y is' : 'ies are'} not in this tenant's inventory (${strangers.slice(0, 5).join(', ')}${strangers.length > 5 ? ', …' : ''}). Nothing was started.`,
      );
    }
    const selection = createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 32);
    return this.runs.start({
      tenantId,
      userId,
      type: BACKUP_ADD_POLICIES,
      itemIds: ids.map(String),
      payload: { backup_set_id: set.id, backup_set_name: set.name, selected: ids.length },
      idempotencyKey: `backup:${set.id}:${selection}`,
    });
  }

  /** Runs that added to this set, newest first. */
  async runsOf(
    tenantId: number,
    setId: number,
  ): Promise<
    Array<{
      id: number;
      status: string;
      bucket: string;
      createdAt: Date;
      succeeded: number;
      failed: number;
      skipped: number;
    }>
  > {
    const type = splitRunType(BACKUP_ADD_POLICIES);
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT id, status, status_bucket, created_at, succeeded, failed, skipped FROM operation_runs
       WHERE tenant_id = ? AND resource = ? AND action = ? AND idempotency_key LIKE ?
       ORDER BY id DESC LIMIT 20`,
      [tenantId, type.resource, type.action, `backup:${setId}:%`],
    );
    return raw.map((r) => ({
      id: Number(r.id),
      status: String(r.status),
      bucket: String(r.status_bucket),
      createdAt: fromDbDate(r.created_at)!,
      succeeded: Number(r.succeeded),
      failed: Number(r.failed),
      skipped: Number(r.skipped),
    }));
  }

  /** Which of these policies the set already holds (by type + external id). */
  async existingKeys(
    setId: number,
    keys: Array<{ policyType: string; externalId: string }>,
  ): Promise<Set<string>> {
    const out = new Set<string>();
    for (const part of chunks(keys, 500)) {
      const raw: Array<{ policy_type: string; external_id: string }> = await this.ds.query(
        `SELECT policy_type, external_id FROM backup_items WHERE backup_set_id = ? AND external_id IN (${part.map(() => '?').join(', ')})`,
        [setId, ...part.map((k) => k.externalId)],
      );
      for (const r of raw) out.add(`${r.policy_type}:${r.external_id}`);
    }
    return out;
  }

  /** For the picker: which of these policies the set already holds. */
  async setExists(tenantId: number, setId: number): Promise<boolean> {
    return (
      (await this.ds.query('SELECT id FROM backup_sets WHERE id = ? AND tenant_id = ?', [setId, tenantId]))
        .length > 0
    );
  }

  private validate(name: string, description: string | null) {
    const n = (name ?? '').trim();
    if (!n || n.length > 120) throw AppError.badRequest('A backup set needs a name of 1 to 120 characters.');
    const d = (description ?? '').trim() || null;
    if (d && d.length > 500) throw AppError.badRequest('The description may hold at most 500 characters.');
    return { n, d };
  }

  private toSet(r: Record<string, unknown>): BackupSetRow {
    return {
      id: Number(r.id),
      tenantId: Number(r.tenant_id),
      name: String(r.name),
      description: (r.description as string | null) ?? null,
      createdBy: r.created_by === null ? null : Number(r.created_by),
      createdByName: (r.created_by_name as string | null) ?? null,
      itemCount: Number(r.item_count),
      createdAt: fromDbDate(r.created_at)!,
      updatedAt: fromDbDate(r.updated_at)!,
    };
  }

  private toItem(r: Record<string, unknown>): BackupItemRow {
    return {
      id: Number(r.id),
      policyId: r.policy_id === null ? null : Number(r.policy_id),
      policyType: String(r.policy_type),
      externalId: String(r.external_id),
      displayName: String(r.display_name),
      payloadHash: String(r.payload_hash),
      runId: r.run_id === null ? null : Number(r.run_id),
      capturedAt: fromDbDate(r.captured_at)!,
    };
  }
}
