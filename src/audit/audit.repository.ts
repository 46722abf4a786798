import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { Dialect } from '../database/dialect';
import { readDate, readJson, readNum, readNumOrNull } from '../database/sql';
import type { AuditEntry, AuditInput } from './audit-entry';

const COLUMNS =
  'id, at, actor_id, tenant_id, action, subject_type, subject_id, subject_label, before_json, after_json, detail';

export interface AuditFilter {
  /** A tenant's log, or (null) the platform's: every entry, tenant or not. */
  tenantId: number | null;
  actorId?: number;
  action?: string;
  /** Keyset: entries older than this id. */
  before?: number;
  limit: number;
}

/** The audit_entries table: appended to, read newest first, keyset-paged by id. */
@Injectable()
export class AuditRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async insert(e: AuditInput, at: Date): Promise<void> {
    await this.db.exec(
      `INSERT INTO audit_entries (at, actor_id, tenant_id, action, subject_type, subject_id, subject_label, before_json, after_json, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        this.dialect.date(at),
        e.actorId,
        e.tenantId,
        e.action,
        e.subject.type,
        e.subject.id === null ? null : String(e.subject.id),
        e.subject.label.slice(0, 190),
        e.before === undefined ? null : JSON.stringify(e.before),
        e.after === undefined ? null : JSON.stringify(e.after),
        e.detail ? e.detail.slice(0, 300) : null,
      ],
    );
  }

  async page(f: AuditFilter): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.tenantId !== null) {
      where.push('tenant_id = ?');
      params.push(f.tenantId);
    }
    if (f.actorId !== undefined) {
      where.push('actor_id = ?');
      params.push(f.actorId);
    }
    if (f.action) {
      where.push('action = ?');
      params.push(f.action);
    }
    if (f.before) {
      where.push('id < ?');
      params.push(f.before);
    }
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM audit_entries${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT ${Math.trunc(f.limit)}`,
      params,
    );
    return rows.map(toEntry);
  }

  async forSubject(type: string, id: string | number, tenantId: number): Promise<AuditEntry[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM audit_entries WHERE subject_type = ? AND subject_id = ? AND tenant_id = ? ORDER BY id`,
      [type, String(id), tenantId],
    );
    return rows.map(toEntry);
  }

  /** Who appears in a log as actor, for its filter. */
  async actors(tenantId: number | null): Promise<number[]> {
    const rows = await this.db.query(
      `SELECT DISTINCT actor_id FROM audit_entries WHERE actor_id IS NOT NULL${tenantId === null ? '' : ' AND tenant_id = ?'}`,
      tenantId === null ? [] : [tenantId],
    );
    return rows.map((r) => readNum(r.actor_id));
  }

  /** The actions that occur in a log, for its filter. */
  async actions(tenantId: number | null): Promise<string[]> {
    const rows = await this.db.query<{ action: string }>(
      `SELECT DISTINCT action FROM audit_entries${tenantId === null ? '' : ' WHERE tenant_id = ?'} ORDER BY action`,
      tenantId === null ? [] : [tenantId],
    );
    return rows.map((r) => r.action);
  }
}

function toEntry(r: Record<string, unknown>): AuditEntry {
  return {
    id: readNum(r.id),
    at: readDate(r.at)!,
    actorId: readNumOrNull(r.actor_id),
    tenantId: readNumOrNull(r.tenant_id),
    action: String(r.action),
    subject: {
      type: String(r.subject_type),
      id: (r.subject_id as string | null) ?? null,
      label: String(r.subject_label),
    },
    before: readJson<unknown>(r.before_json, undefined),
    after: readJson<unknown>(r.after_json, undefined),
    detail: (r.detail as string | null) ?? null,
  };
}
