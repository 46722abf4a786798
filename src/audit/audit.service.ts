import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { RUN_EVENTS, type RunEventMap } from '../runs';
import type { AuditEntry, AuditInput } from './audit-entry';
import { AuditFilter, AuditRepository } from './audit.repository';

/**
 * The one audit log: every administrative action (tenants, members, invitations, users, passwords,
 * API tokens) and every run action (cancel, retry), as the modules doing them record them. Values are
 * chosen by those modules and never hold a secret (no password, token, hash or credential).
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(private readonly repo: AuditRepository) {}

  async record(entry: AuditInput): Promise<void> {
    await this.repo.insert(entry, new Date());
    this.logger.log(
      { action: entry.action, tenantId: entry.tenantId, actorId: entry.actorId, subject: entry.subject.type },
      entry.detail ?? entry.action,
    );
  }

  list(filter: AuditFilter): Promise<AuditEntry[]> {
    return this.repo.page(filter);
  }

  actors(tenantId: number | null): Promise<number[]> {
    return this.repo.actors(tenantId);
  }

  actions(tenantId: number | null): Promise<string[]> {
    return this.repo.actions(tenantId);
  }

  /** A run's activity after its start (cancel, retry), for its page. */
  forRun(tenantId: number, runId: number): Promise<AuditEntry[]> {
    return this.repo.forSubject('run', runId, tenantId);
  }

  @OnEvent(RUN_EVENTS.actioned, { async: true, promisify: true })
  async onRunAction({ run, userId, action, detail }: RunEventMap['run.actioned']): Promise<void> {
    await this.record({
      actorId: userId,
      tenantId: run.tenantId,
      action: `run.${action}`,
      subject: { type: 'run', id: run.id, label: `${run.label} #${run.id}` },
      detail,
    });
  }
}
