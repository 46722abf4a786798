import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AppError } from '../common/app-error';
import { TimedOut, withTimeout } from '../common/timeout';
import { toFailure } from './failure-sanitizer';
import { isActive } from './run-status';
import { RunTypeRegistry } from './run-types.registry';
import { OperationRun } from './run';
import { RUN_EVENTS } from './run-events';
import { jobIdFor, RunsService, StartRunResult } from './runs.service';

const JOB_REMOVE_TIMEOUT_MS = 1000;

interface RetrySelection {
  /** undefined: the run has no item list (a sync), so the retry is the whole run again. */
  items: string[] | undefined;
  failed: number;
  unprocessed: number;
}

export interface RetryResult extends StartRunResult {
  /** How many of the retried items had failed, and how many the parent never reached. */
  failed: number;
  unprocessed: number;
}

function items(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}item${n === 1 ? '' : 's'}`;
}

/** "11 failed and 3,989 unprocessed items", "4 failed items", "the whole run". */
export function describeSelection(s: { items?: string[]; failed: number; unprocessed: number }): string {
  if (!s.items) return 'the whole run';
  if (s.failed && s.unprocessed)
    return `${s.failed.toLocaleString('en-US')} failed and ${items(s.unprocessed, 'unprocessed ')}`;
  if (s.failed) return items(s.failed, 'failed ');
  if (s.unprocessed) return items(s.unprocessed, 'unprocessed ');
  return items(s.items.length, '');
}

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
    private readonly events: EventEmitter2,
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
   * A new run of the same type over the parent's failed items and the items it never reached (a run
   * that ended early, e.g. worker_lost after 1,000 of 5,000), linked both ways; a run that failed as a
   * whole before any item is retried whole. Twice in a row gives the same retry while it is active.
   */
  async retry(tenantId: number, runId: number, user: { id: number; name: string }): Promise<RetryResult> {
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
    const selection = await this.retrySelection(parent);
    const result = await this.runs.start({
      tenantId,
      userId: user.id,
      type,
      itemIds: selection.items,
      payload: { ...(parent.payload ?? {}), retry_of: parent.id },
      parentRunId: parent.id,
      idempotencyKey: `retry:${parent.id}`,
    });
    if (!result.reused) {
      const what = describeSelection(selection);
      await this.audit(parent, user.id, 'retry', `Retried ${what} as run #${result.run.id}`);
      await this.audit(result.run, user.id, 'retry', `Retry of run #${parent.id} (${what})`);
    }
    return { ...result, failed: selection.failed, unprocessed: selection.unprocessed };
  }

  /**
   * Producers walk their items in order and record them as they go, so the first processed_items
   * ids are the ones done (some failed) and the rest were never reached.
   */
  private async retrySelection(parent: OperationRun): Promise<RetrySelection> {
    const ids = parent.itemIds ?? [];
    if (!ids.length) return { items: undefined, failed: 0, unprocessed: 0 };
    const failedIds = new Set(await this.runs.failedItemIds(parent.id));
    const reached = Math.min(parent.processedItems, ids.length);
    const failed = ids.slice(0, reached).filter((id) => failedIds.has(id));
    const unprocessed = ids.slice(reached);
    if (!failed.length && !unprocessed.length) return { items: ids, failed: 0, unprocessed: 0 };
    return { items: [...failed, ...unprocessed], failed: failed.length, unprocessed: unprocessed.length };
  }

  /** The audit log records it (awaited, so the run page shows it on the next view). */
  private async audit(
    run: OperationRun,
    userId: number | null,
    action: 'cancel' | 'retry',
    detail: string,
  ): Promise<void> {
    await this.events.emitAsync(RUN_EVENTS.actioned, {
      run: this.runs.snapshot(run),
      userId,
      action,
      detail: detail.slice(0, 300),
    });
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
