import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AppError } from '../common/app-error';
import { TimedOut, withTimeout } from '../common/timeout';
import { digestFailures, PERMANENT_REASONS, REASON_LABELS, RunFailure, toFailure } from './failure-sanitizer';
import { isActive, RUN_STATE_LABELS, runState } from './run-status';
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
  /** Failed items left out because their reason is one another attempt cannot change. */
  leftOut: number;
}

/** Whether "Retry" is offered for a run, under which label, and why (or why not), in one sentence. */
export interface RetryOffer {
  offered: boolean;
  label: string;
  reason: string;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

function reasonsOf(failures: RunFailure[]): string {
  return digestFailures(failures, 0)
    .map((d) => `${d.label.toLowerCase()}${d.count > 1 ? ` ×${d.count}` : ''}`)
    .join(', ');
}

/**
 * A retry is worth offering when another attempt could change something: items that failed for a
 * reason that may pass (a throttled or unreachable provider, a permission since granted), items the
 * run never reached, or a whole-run failure of that kind. Items that failed as not found (gone
 * upstream), invalid or without a baseline would only fail again, so a run with nothing else is not
 * offered a retry, and says why.
 */
export function retryOffer(run: OperationRun): RetryOffer {
  const none = (reason: string): RetryOffer => ({ offered: false, label: 'Retry', reason });
  if (isActive(run.status)) return none('A run can be retried once it has ended.');
  if (run.statusBucket !== 'partial' && run.statusBucket !== 'failed')
    return none('Every item succeeded or was skipped, so there is nothing to retry.');
  const failures = run.failures ?? [];
  const whole = failures.find((f) => f.item_id === null);
  const itemFailures = failures.filter((f) => f.item_id !== null);
  const permanent = itemFailures.filter((f) => PERMANENT_REASONS.has(f.reason_code));
  // Failed items without a kept entry (past the 100 kept, or counted only) have unknown reasons.
  const retryable = Math.max(0, run.failed - permanent.length);
  const unprocessed = run.itemIds?.length ? Math.max(0, run.totalItems - run.processedItems) : 0;
  if (whole && whole.reason_code !== 'cancelled' && run.processedItems === 0) {
    return PERMANENT_REASONS.has(whole.reason_code)
      ? none(
          `The run failed as a whole (${REASON_LABELS[whole.reason_code].toLowerCase()}); another attempt would fail the same way.`,
        )
      : {
          offered: true,
          label: 'Retry run',
          reason: `The run failed as a whole (${REASON_LABELS[whole.reason_code].toLowerCase()}), which another attempt may not meet.`,
        };
  }
  if (retryable > 0) {
    const transient = itemFailures.filter((f) => !PERMANENT_REASONS.has(f.reason_code));
    return {
      offered: true,
      label: 'Retry failed items',
      reason: `${plural(retryable, 'failed item')} may pass on another attempt${transient.length ? ` (${reasonsOf(transient)})` : ''}${permanent.length ? `; ${plural(permanent.length, 'item')} that failed for good (${reasonsOf(permanent)}) ${permanent.length === 1 ? 'is' : 'are'} left out` : ''}${unprocessed ? `, with ${plural(unprocessed, 'unprocessed item')}` : ''}.`,
    };
  }
  if (unprocessed > 0) {
    return {
      offered: true,
      label: 'Retry unprocessed items',
      reason: `${plural(unprocessed, 'item')} ${unprocessed === 1 ? 'was' : 'were'} never reached${permanent.length ? `; ${plural(permanent.length, 'item')} that failed for good ${permanent.length === 1 ? 'is' : 'are'} left out` : ''}.`,
    };
  }
  if (!run.itemIds?.length && (!whole || !PERMANENT_REASONS.has(whole.reason_code)) && !permanent.length)
    return { offered: true, label: 'Retry run', reason: 'The run is started again as a whole.' };
  return none(
    permanent.length
      ? `${permanent.length === run.failed ? 'Every' : 'Each kept'} failed item failed for a reason another attempt cannot change (${reasonsOf(permanent)}), so a retry would fail ${permanent.length === 1 ? 'it' : 'them'} again.`
      : 'Nothing in this run would go differently on another attempt.',
  );
}

export interface RetryResult extends StartRunResult {
  /** How many of the retried items had failed, and how many the parent never reached. */
  failed: number;
  unprocessed: number;
  /** Failed items not retried: their reason is one another attempt cannot change. */
  leftOut: number;
}

/** "Cancelled after 10 of 1,535 items", or before any item when none was processed. */
export function cancelDetail(run: { processedItems: number; totalItems: number }): string {
  if (run.processedItems === 0)
    return run.totalItems > 0
      ? `Cancelled before any of its ${run.totalItems.toLocaleString('en-US')} items was processed`
      : 'Cancelled before any item was processed';
  return `Cancelled after ${run.processedItems.toLocaleString('en-US')} of ${run.totalItems.toLocaleString('en-US')} items`;
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
    const ended = isActive(run.status)
      ? await this.runs.abort(
          run.id,
          toFailure({ reasonCode: 'cancelled', message: `Cancelled by ${user.name}.` }),
        )
      : run;
    if (!ended || ended.status !== 'aborted' || !isActive(run.status)) {
      const now = ended ?? run;
      throw AppError.invalid({
        run: `Run #${run.id} had already ended (${RUN_STATE_LABELS[runState(now.status, now.statusBucket)]}) before it could be cancelled; nothing was changed.`,
      });
    }
    await this.audit(run, user.id, 'cancel', cancelDetail(ended));
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
    const offer = retryOffer(parent);
    if (!offer.offered) throw AppError.invalid({ run: `Run #${parent.id} was not retried. ${offer.reason}` });
    if (!this.registry.has(type))
      throw AppError.invalid({ run: `No producer handles "${type}" any more, so it cannot be retried.` });
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
      const left = selection.leftOut
        ? ` (${plural(selection.leftOut, 'item')} that failed for good left out)`
        : '';
      await this.audit(parent, user.id, 'retry', `Retried ${what} as run #${result.run.id}${left}`);
      await this.audit(result.run, user.id, 'retry', `Retry of run #${parent.id} (${what})`);
    }
    return {
      ...result,
      failed: selection.failed,
      unprocessed: selection.unprocessed,
      leftOut: selection.leftOut,
    };
  }

  /**
   * Producers walk their items in order and record them as they go, so the first processed_items
   * ids are the ones done (some failed) and the rest were never reached.
   */
  private async retrySelection(parent: OperationRun): Promise<RetrySelection> {
    const ids = parent.itemIds ?? [];
    if (!ids.length) return { items: undefined, failed: 0, unprocessed: 0, leftOut: 0 };
    // Items whose kept failure says another attempt cannot help stay out of the retry.
    const forGood = new Set(
      (parent.failures ?? [])
        .filter((f) => f.item_id !== null && PERMANENT_REASONS.has(f.reason_code))
        .map((f) => f.item_id!),
    );
    const failedIds = new Set(await this.runs.failedItemIds(parent.id));
    const reached = Math.min(parent.processedItems, ids.length);
    const failedAll = ids.slice(0, reached).filter((id) => failedIds.has(id));
    const failed = failedAll.filter((id) => !forGood.has(id));
    const unprocessed = ids.slice(reached);
    const leftOut = failedAll.length - failed.length;
    if (!failed.length && !unprocessed.length) return { items: ids, failed: 0, unprocessed: 0, leftOut };
    return {
      items: [...failed, ...unprocessed],
      failed: failed.length,
      unprocessed: unprocessed.length,
      leftOut,
    };
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
