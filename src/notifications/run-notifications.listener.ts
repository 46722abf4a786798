import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { REASON_LABELS, RUN_EVENTS, RunEventMap, RunEventSnapshot, runHref } from '../runs';
import { TenantsService } from '../tenants';
import { NotificationInput, NotificationsService } from './notifications.service';

function plural(n: number, word: string): string {
  // toLocaleString is costly and runs twice per run: only numbers that need separators get it.
  return `${n < 1000 ? n : n.toLocaleString('en-US')} ${word}`;
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

  @OnEvent(RUN_EVENTS.finished, { async: true, promisify: true, suppressErrors: true })
  async onFinished({ run }: RunEventMap['run.finished']): Promise<void> {
    const counts = `${plural(run.succeeded, 'succeeded')}, ${plural(run.failed, 'failed')}, ${plural(run.skipped, 'skipped')}`;
    if (run.status === 'aborted') {
      await this.notify(run, {
        kind: 'run_cancelled',
        level: 'warning',
        title: `${run.label} cancelled`,
        body: `Run #${run.id} was cancelled after ${counts}.`,
      });
    } else if (run.bucket === 'failed') {
      const f = run.firstFailure;
      const why = f
        ? `${REASON_LABELS[f.reason_code] ?? f.reason_code} (${f.reason_code}): ${f.message}`
        : 'no reason was recorded';
      await this.notify(run, {
        kind: 'run_failed',
        level: 'error',
        title: `${run.label} failed`,
        body: `Run #${run.id} failed — ${why}`,
      });
    } else {
      await this.notify(run, {
        kind: 'run_completed',
        level: run.bucket === 'partial' ? 'warning' : 'success',
        title: `${run.label} ${run.bucket === 'partial' ? 'completed with errors' : 'completed'}`,
        body: `Run #${run.id}: ${counts}.`,
      });
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
