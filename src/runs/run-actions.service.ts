import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppError } from '../common/app-error';
import { TimedOut, withTimeout } from '../common/timeout';
import { fromDbDate, toDbDate } from '../database/sql';
import { toFailure } from './failure-sanitizer';
import { isActive } from './run-status';
import { RunTypeRegistry } from './run-types.registry';
import { OperationRun } from './run.entity';
import { jobIdFor, RunsService, StartRunResult } from './runs.service';

export interface AuditEntry {
  at: Date;
  userId: number | null;
  actor: string;
  action: string;
  description: string;
}

const JOB_REMOVE_TIMEOUT_MS = 1000;

/**
 * What operators do to runs — cancel, retry failed items — with an audit trail. The start itself is
 * recorded by the run row (initiator, time, payload); these rows record everything after it.
 */
@Injectable()
export class RunActionsService {
  private readonly logger = new Logger('RunActions');

  constructor(
    private readonly runs: RunsService,
    private readonly registry: RunTypeRegistry,
    private readonly ds: DataSource,
  ) {}

  async cancel(tenantId: number, runId: number, user: { id: number; name: string }): Promise<OperationRun> {
    const run = await this.runs.getForTenant(tenantId, runId);
    if (!isActive(run.status)) {
      throw AppError.badRequest(
        `Run #${run.id} has already ended (${run.statusBucket}); only queued or running runs can be cancelled.`,
      );
    }
    const ended = await this.runs.abort(
      run.id,
      toFailure({ reasonCode: 'cancelled', message: `Cancelled by ${user.name}.` }),
    );
    if (!ended || ended.status !== 'aborted') {
      throw AppError.badRequest(`Run #${run.id} ended before it could be cancelled.`);
    }
    await this.audit(
      run,
      user.id,
      'cancel',
      `Cancelled after ${ended.processedItems} of ${ended.totalItems} items`,
    );
    // A queued job is removed at once; a running one stops at its next batch (its writes are refused).
    await this.removeWaitingJob(run).catch((e) =>
      this.logger.warn({ err: e, runId: run.id, tenantId }, 'could not remove job'),
    );
    return ended;
  }

  /**
   * A new run of the same type over only the parent's failed items (or, for a run that failed as a
   * whole, over all of it), linked both ways. Twice in a row gives the same retry while it is active.
   */
  async retry(tenantId: number, runId: number, user: { id: number; name: string }): Promise<StartRunResult> {
    const parent = await this.runs.getForTenant(tenantId, runId);
    const type = parent.runType();
    if (isActive(parent.status))
      throw AppError.badRequest(
        `Run #${parent.id} is still ${parent.statusBucket}; retry it once it has ended.`,
      );
    if (parent.statusBucket !== 'partial' && parent.statusBucket !== 'failed') {
      throw AppError.badRequest(`Run #${parent.id} succeeded; there is nothing to retry.`);
    }
    if (!this.registry.has(type))
      throw AppError.badRequest(`No producer handles "${type}" any more, so it cannot be retried.`);
    const failed = new Set(await this.runs.failedItemIds(parent.id));
    const items = parent.itemIds?.length
      ? failed.size
        ? parent.itemIds.filter((id) => failed.has(id))
        : parent.itemIds
      : undefined;
    const result = await this.runs.start({
      tenantId,
      userId: user.id,
      type,
      itemIds: items,
      payload: { ...(parent.payload ?? {}), retry_of: parent.id },
      parentRunId: parent.id,
      idempotencyKey: `retry:${parent.id}`,
    });
    if (!result.reused) {
      const what = items
        ? `${items.length} ${failed.size ? 'failed ' : ''}item${items.length === 1 ? '' : 's'}`
        : 'the whole run';
      await this.audit(parent, user.id, 'retry', `Retried ${what} as run #${result.run.id}`);
      await this.audit(result.run, user.id, 'retry', `Retry of run #${parent.id} (${what})`);
    }
    return result;
  }

  async auditOf(tenantId: number, runId: number): Promise<AuditEntry[]> {
    const raw: Record<string, unknown>[] = await this.ds.query(
      `SELECT a.created_at, a.user_id, a.action, a.detail, u.name FROM run_audit a LEFT JOIN users u ON u.id = a.user_id
       WHERE a.run_id = ? AND a.tenant_id = ? ORDER BY a.id`,
      [runId, tenantId],
    );
    return raw.map((r) => ({
      at: fromDbDate(r.created_at)!,
      userId: r.user_id === null ? null : Number(r.user_id),
      actor: (r.name as string | null) ?? 'System',
      action: String(r.action),
      description: String(r.detail),
    }));
  }

  private async audit(
    run: OperationRun,
    userId: number | null,
    action: string,
    detail: string,
  ): Promise<void> {
    await this.ds.query(
      'INSERT INTO run_audit (run_id, tenant_id, user_id, action, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [
        run.id,
        run.tenantId,
        userId,
        action,
        detail.slice(0, 300),
        toDbDate(new Date(), this.ds.options.type === 'mysql'),
      ],
    );
    this.logger.log({ runId: run.id, tenantId: run.tenantId, userId, action }, detail);
  }

  private async removeWaitingJob(run: OperationRun): Promise<void> {
    const def = this.registry.get(run.runType());
    if (!def) return;
    const queue = this.runs.queue(def.queue);
    // No answer in time: the job is left (a running one stops at its next batch anyway).
    const job = await withTimeout(queue.getJob(jobIdFor(run.id)), JOB_REMOVE_TIMEOUT_MS, 'job lookup').catch(
      (e: unknown) => {
        if (e instanceof TimedOut) return null;
        throw e;
      },
    );
    if (job && ((await job.isWaiting()) || (await job.isDelayed()))) await job.remove();
  }
}
