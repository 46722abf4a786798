import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { REASON_LABELS, RUN_EVENTS, RunEventMap, RunEventSnapshot, runHref } from '../runs';
import { TenantsService } from '../tenants';
import { NotificationInput, NotificationsService } from './notifications.service';

function plural(n: number, word: string): string {
  // toLocaleString is costly and runs twice per run: only numbers that need separators get it.
  return `${n < 1000 ? n : n.toLocaleString('en-US')} ${word}`;
}

/**
 * Why a run failed, in one line: the run-level reason when it failed as a whole, else its most
 * frequent item reason with how many items it failed ("Not found (not_found), 4 of 4 items: …").
 */
function whyFailed(run: RunEventSnapshot): string {
  const whole = run.firstFailure?.item_id === null ? run.firstFailure : null;
  if (whole)
    return `${REASON_LABELS[whole.reason_code] ?? whole.reason_code} (${whole.reason_code}): ${whole.message}`;
  const top = run.topReason;
  if (!top) return `${plural(run.failed, 'items')} failed; their reasons were not kept.`;
  const of = run.processedItems ? ` of ${plural(run.processedItems, 'items')}` : '';
  return `${top.label} (${top.reason_code}), ${plural(top.count, top.count === 1 ? 'item' : 'items')}${of}: ${top.sample}`;
}

/** " Top reason: Not found (not_found), 3 items." for a run that completed with errors. */
function topReasonLine(run: RunEventSnapshot): string {
  const top = run.topReason;
  return top
    ? ` Top reason: ${top.label} (${top.reason_code}), ${plural(top.count, top.count === 1 ? 'item' : 'items')}.`
    : '';
}

/** Turns run lifecycle events into notifications for the run's initiator, for every producer alike. */
@Injectable()
export class RunNotificationsListener {
  private readonly logger = new Logger('Notifications');
  private readonly slugs = new Map<number, string>();

  constructor(
    private readonly notifications: NotificationsService,
    private readonly tenants: TenantsService,
  ) {}

  @OnEvent(RUN_EVENTS.queued, { async: true, promisify: true, suppressErrors: true })
  async onQueued({ run }: RunEventMap['run.queued']): Promise<void> {
    await this.notify(run, {
      kind: 'run_queued',
      level: 'info',
      title: `${run.label} queued`,
      body: `Run #${run.id} is waiting for a worker${run.totalItems ? ` (${plural(run.totalItems, 'items')})` : ''}.`,
    });
  }

  /**
   * The run's result. It replaces the queued notice (NotificationsService.write): one entry, one
   * unread count per run. A failure names its top reason and how many items it failed.
   */
  @OnEvent(RUN_EVENTS.finished, { async: true, promisify: true, suppressErrors: true })
  async onFinished({ run }: RunEventMap['run.finished']): Promise<void> {
    const counts = `${plural(run.succeeded, 'succeeded')}, ${plural(run.failed, 'failed')}, ${plural(run.skipped, 'skipped')}`;
    if (run.status === 'aborted') {
      const by = run.firstFailure?.reason_code === 'cancelled' ? ` ${run.firstFailure.message}` : '';
      const when =
        run.processedItems === 0
          ? 'before any item was processed'
          : `after ${plural(run.processedItems, `of ${plural(run.totalItems, 'items')}`)} (${counts})`;
      await this.notify(run, {
        kind: 'run_cancelled',
        level: 'warning',
        title: `${run.label} cancelled`,
        body: `Run #${run.id} was cancelled ${when}.${by}`,
      });
    } else if (run.bucket === 'failed') {
      await this.notify(run, {
        kind: 'run_failed',
        level: 'error',
        title: `${run.label} failed`,
        body: `Run #${run.id} failed — ${whyFailed(run)}`,
      });
    } else {
      const top = run.bucket === 'partial' ? topReasonLine(run) : '';
      await this.notify(run, {
        kind: 'run_completed',
        level: run.bucket === 'partial' ? 'warning' : 'success',
        title: `${run.label} ${run.bucket === 'partial' ? 'completed with errors' : 'completed'}`,
        body: `Run #${run.id}: ${counts}.${top}`,
      });
    }
  }

  /** Opening a run's page reads what its notifications said. */
  @OnEvent(RUN_EVENTS.viewed, { async: true, promisify: true, suppressErrors: true })
  async onViewed({ runId, userId }: RunEventMap['run.viewed']): Promise<void> {
    try {
      await this.notifications.flush();
      await this.notifications.markRunRead(userId, runId);
    } catch (e) {
      this.logger.warn({ err: e, runId }, 'could not mark the run notifications read');
    }
  }

  @OnEvent(RUN_EVENTS.pruned, { async: true, promisify: true, suppressErrors: true })
  async onPruned({ runIds, before }: RunEventMap['run.pruned']): Promise<void> {
    await this.notifications.prune(runIds, before);
  }

  private async notify(
    run: RunEventSnapshot,
    n: Pick<NotificationInput, 'kind' | 'level' | 'title' | 'body'>,
  ): Promise<void> {
    if (!run.userId) return;
    try {
      const slug = await this.slug(run.tenantId);
      this.notifications.enqueue({
        ...n,
        userId: run.userId,
        tenantId: run.tenantId,
        runId: run.id,
        link: slug ? runHref(slug, run.id) : null,
      });
    } catch (e) {
      // A notification must never break a run; the run page stays the source of truth.
      this.logger.error({ err: e, runId: run.id, tenantId: run.tenantId }, 'could not create notification');
    }
  }

  private async slug(tenantId: number): Promise<string | undefined> {
    if (!this.slugs.has(tenantId)) {
      const t = await this.tenants.findById(tenantId);
      if (t) this.slugs.set(tenantId, t.slug);
    }
    return this.slugs.get(tenantId);
  }
}
