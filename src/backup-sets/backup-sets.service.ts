import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AuthService } from '../auth';
import { AppError } from '../common/app-error';
import { Dialect } from '../database/dialect';
import { PoliciesService } from '../policies';
import { OperationRun, RunsService, StartRunResult } from '../runs';
import {
  BackupItemRow,
  BackupSetQuery,
  BackupSetRow,
  BackupSetSortKey,
  BackupSetsRepository,
} from './backup-sets.repository';
import { BACKUP_ADD_POLICIES } from './backup-sets.queue';

export type { BackupItemRow, BackupSetQuery, BackupSetRow, BackupSetSortKey };

/** Largest selection one run takes; beyond it the operator narrows the search. */
export const MAX_SELECTION = 20_000;

/** The subject of a set's runs, so its page lists them (and only them). */
export function setSubject(setId: number): string {
  return `backup_set:${setId}`;
}

@Injectable()
export class BackupSetsService {
  constructor(
    private readonly repo: BackupSetsRepository,
    private readonly dialect: Dialect,
    private readonly policies: PoliciesService,
    private readonly runs: RunsService,
    private readonly auth: AuthService,
  ) {}

  /** A page of the tenant's sets, each with its creator's name, and how many match. */
  async list(
    tenantId: number,
    q: BackupSetQuery,
  ): Promise<{ rows: Array<BackupSetRow & { createdByName: string | null }>; total: number }> {
    const { rows, total } = await this.repo.list(tenantId, q);
    const names = await this.auth.namesOf(rows.map((s) => s.createdBy));
    return {
      total,
      rows: rows.map((s) => ({
        ...s,
        createdByName: s.createdBy === null ? null : (names.get(s.createdBy) ?? null),
      })),
    };
  }

  /** A set of this tenant, or not-found (another tenant's set is indistinguishable from none). */
  async get(tenantId: number, id: number): Promise<BackupSetRow & { createdByName: string | null }> {
    const set = await this.repo.get(tenantId, id);
    if (!set) throw AppError.notFound('Backup set');
    const names = await this.auth.namesOf([set.createdBy]);
    return { ...set, createdByName: set.createdBy === null ? null : (names.get(set.createdBy) ?? null) };
  }

  async create(tenantId: number, userId: number, name: string, description: string | null): Promise<number> {
    const { n, d } = this.validate(name, description);
    try {
      return await this.repo.insert(tenantId, userId, n, d);
    } catch (e) {
      if (this.dialect.isUniqueViolation(e))
        throw AppError.invalid({ name: `A backup set named "${n}" already exists in this tenant.` });
      throw e;
    }
  }

  async rename(tenantId: number, id: number, name: string, description: string | null): Promise<void> {
    await this.get(tenantId, id);
    const { n, d } = this.validate(name, description);
    try {
      await this.repo.update(tenantId, id, n, d);
    } catch (e) {
      if (this.dialect.isUniqueViolation(e))
        throw AppError.invalid({ name: `A backup set named "${n}" already exists in this tenant.` });
      throw e;
    }
  }

  /** Deletes a set and its items; returns the set as it was. */
  async delete(tenantId: number, id: number): Promise<BackupSetRow> {
    const set = await this.get(tenantId, id);
    await this.repo.delete(tenantId, id);
    return set;
  }

  items(tenantId: number, setId: number, search: string | undefined, offset: number, limit: number) {
    return this.repo.items(tenantId, setId, search, offset, limit);
  }

  async item(tenantId: number, setId: number, itemId: number): Promise<BackupItemRow & { payload: unknown }> {
    const item = await this.repo.item(tenantId, setId, itemId);
    if (!item) throw AppError.notFound('Backup item');
    const payloads = await this.policies.payloadsByHash(tenantId, [item.payloadHash]);
    return { ...item, payload: payloads.get(item.payloadHash) ?? null };
  }

  /** Which of these policies the set already holds (as `type:externalId`). */
  existingKeys(setId: number, keys: Array<{ policyType: string; externalId: string }>): Promise<Set<string>> {
    return this.repo.existingKeys(setId, keys);
  }

  /**
   * Of these policies, those a "select all" may add: not already in the set (by type and external id,
   * as the capture's skip rule reads it). The policies' own filter already leaves out those removed
   * upstream.
   */
  async notInSet(tenantId: number, setId: number, policyIds: number[]): Promise<number[]> {
    const rows = await this.policies.byIds(tenantId, policyIds);
    const held = await this.repo.existingKeys(setId, rows);
    const keep = new Set(rows.filter((p) => !held.has(`${p.policyType}:${p.externalId}`)).map((p) => p.id));
    return policyIds.filter((id) => keep.has(id));
  }

  /** How many current policies of a search the set already holds (for the picker's "select all" count). */
  inSetCount(tenantId: number, setId: number, filter: { search?: string; type?: string }): Promise<number> {
    return this.repo.inSetCount(tenantId, setId, filter);
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
    if (!ids.length)
      throw AppError.invalid({
        policy_ids: 'Select at least one policy to add, or tick “Select all matching policies”.',
      });
    if (ids.length > MAX_SELECTION)
      throw AppError.badRequest(`Select at most ${MAX_SELECTION.toLocaleString('en-US')} policies per run.`);
    const found = await this.policies.byIds(tenantId, ids);
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
      subject: setSubject(set.id),
    });
  }

  /** Runs that added to this set, newest first. */
  runsOf(tenantId: number, setId: number): Promise<OperationRun[]> {
    return this.runs.runsForSubject(tenantId, setSubject(setId), 20);
  }

  private validate(name: string, description: string | null) {
    const n = (name ?? '').trim();
    if (!n || n.length > 120)
      throw AppError.invalid({ name: 'A backup set needs a name of 1 to 120 characters.' });
    const d = (description ?? '').trim() || null;
    if (d && d.length > 500)
      throw AppError.invalid({ description: 'The description may hold at most 500 characters.' });
    return { n, d };
  }
}
