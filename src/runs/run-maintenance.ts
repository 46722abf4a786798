import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Job, Queue } from 'bull';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { RunCounters } from './run-counters';
import { RunPageCache } from './run-page-cache';
import { RunTargetNames } from './run-target-names';
import { RUN_EVENTS } from './run-events';
import { rollupDay } from './run-rollup';
import { RunTypeRegistry } from './run-types.registry';
import { RunsRepository } from './runs.repository';
import { jobIdFor, JobData, RunsService } from './runs.service';

export const MAINTENANCE_QUEUE = 'hub-maintenance';
const PRUNE_BATCH = 1000;

export interface ReconcileReport {
  requeued: number[];
  failed: number[];
}

/**
 * Keeps the promise that no run stays pending or running forever, and that history does not grow
 * without bound. Runs on workers: once at start and then as Bull repeatable jobs (so one worker of
 * many does each round).
 */
@Injectable()
export class RunMaintenance implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RunMaintenance');

  constructor(
    @InjectQueue(MAINTENANCE_QUEUE) private readonly queue: Queue,
    private readonly runs: RunsService,
    private readonly registry: RunTypeRegistry,
    private readonly repo: RunsRepository,
    private readonly events: EventEmitter2,
    private readonly counters: RunCounters,
    private readonly targets: RunTargetNames,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pages: RunPageCache,
  ) {}

  private watchdog: NodeJS.Timeout | undefined;

  onApplicationBootstrap(): void {
    this.queue.on('error', (e) => this.logger.warn({ err: e }, 'maintenance queue error'));
    if (!this.config.runsWorker) return;
    void this.queue.process('reconcile', 1, () => this.reconcile());
    void this.queue.process('retention', 1, () => this.prune());
    // Schedules live in Redis: a Redis restarted without its data forgets them (and every job), so
    // each worker puts them back whenever its connection comes back and checks them on a timer of
    // its own; when they were gone, it reconciles at once (runs left pending without a job).
    this.queue.client.on('ready', () => void this.ensureSchedules());
    void this.ensureSchedules();
    const every = this.config.queue.reconcileIntervalSeconds;
    if (every > 0) {
      this.watchdog = setInterval(() => void this.ensureSchedules(), every * 1000).unref();
      // Right away too: a worker that starts after an outage should not wait a whole interval.
      setTimeout(
        () => void this.reconcile().catch((e) => this.logger.warn({ err: e }, 'reconcile failed')),
        1000,
      ).unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.watchdog);
  }

  /** (Re)adds the repeatable maintenance jobs that Redis does not hold; reconciles when any was missing. */
  async ensureSchedules(): Promise<void> {
    try {
      const present = new Set((await this.queue.getRepeatableJobs()).map((j) => j.name));
      const missing = this.schedules().filter((s) => !present.has(s.name));
      if (!missing.length) return;
      for (const s of missing) {
        await this.queue.add(
          s.name,
          {},
          {
            repeat: { every: s.everyMs },
            jobId: s.name,
            removeOnComplete: 10,
            removeOnFail: 10,
          },
        );
      }
      this.logger.log({ schedules: missing.map((s) => s.name) }, 'maintenance schedules (re)registered');
      if (missing.some((s) => s.name === 'reconcile')) {
        const report = await this.reconcile();
        if (report.requeued.length || report.failed.length)
          this.logger.warn(report, 'reconciled runs after the schedules were lost');
      }
    } catch (e) {
      this.logger.warn({ err: e }, 'could not check the maintenance schedules');
    }
  }

  private schedules(): Array<{ name: 'reconcile' | 'retention'; everyMs: number }> {
    const every = this.config.queue.reconcileIntervalSeconds;
    return [
      ...(every > 0 ? [{ name: 'reconcile' as const, everyMs: every * 1000 }] : []),
      { name: 'retention', everyMs: 3_600_000 },
    ];
  }

  /**
   * Pending runs with no job (Redis flushed, or the process died between insert and enqueue) are
   * enqueued again; running runs whose job is gone are enqueued again (they resume after their last
   * committed batch) or, if Bull gave up on the job, failed as worker_lost.
   */
  async reconcile(
    olderThanMs = Math.max(10_000, this.config.queue.enqueueTimeoutMs * 2),
  ): Promise<ReconcileReport> {
    const report: ReconcileReport = { requeued: [], failed: [] };
    const ids = await this.repo.stale(
      new Date(Date.now() - olderThanMs),
      new Date(Date.now() - Math.max(olderThanMs, this.config.queue.lockDurationMs * 2)),
    );
    for (const id of ids) {
      const run = await this.runs.findById(id);
      if (!run || !['pending', 'running'].includes(run.status)) continue;
      const def = this.registry.get(run.runType());
      const log = { runId: run.id, tenantId: run.tenantId, status: run.status };
      if (!def) {
        await this.runs.fail(run.id, {
          reasonCode: 'unexpected_error',
          message: `No producer handles "${run.runType()}" any more.`,
        });
        report.failed.push(run.id);
        continue;
      }
      const queue = this.runs.queue(def.queue);
      let job: Job<JobData> | null;
      try {
        job = await queue.getJob(jobIdFor(run.id));
      } catch (e) {
        this.logger.warn({ ...log, err: e }, 'queue unreachable; will try again');
        return report;
      }
      const state = job ? await job.getState() : 'missing';
      if (state === 'missing' || (state === 'completed' && run.status === 'pending')) {
        try {
          if (job) await job.remove();
          await queue.add(
            run.runType(),
            { runId: run.id, tenantId: run.tenantId },
            { jobId: jobIdFor(run.id) },
          );
          report.requeued.push(run.id);
          this.logger.warn(log, 'run had no job; enqueued again');
        } catch (e) {
          await this.runs.fail(run.id, {
            reasonCode: 'queue_unavailable',
            message: 'The run had lost its job and could not be queued again.',
          });
          report.failed.push(run.id);
          this.logger.error({ ...log, err: e }, 'run lost its job and could not be requeued');
        }
      } else if (state === 'failed' || state === 'completed') {
        await this.runs.fail(run.id, {
          reasonCode: 'worker_lost',
          message: 'The worker processing this run stopped before finishing it.',
        });
        report.failed.push(run.id);
        this.logger.warn({ ...log, state }, 'job ended without ending its run; run failed');
      }
    }
    return report;
  }

  /** Removes runs older than the retention period (and, through run.pruned, what hangs off them). */
  async prune(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.retentionDays * 86_400_000);
    let removed = 0;
    for (;;) {
      const ids = await this.repo.endedBefore(cutoff, PRUNE_BATCH);
      if (!ids.length) break;
      await this.repo.deleteRuns(ids, this.registry.runRowTables());
      this.pages.changed('all');
      this.events.emit(RUN_EVENTS.pruned, { runIds: ids, before: cutoff });
      removed += ids.length;
      if (ids.length < PRUNE_BATCH) break;
    }
    if (removed) await this.targets.pruned();
    await this.repo.deleteDailyCountsBefore(rollupDay(cutoff));
    // Counter deltas a killed process never flushed are put right from the runs themselves.
    await this.counters.recount(rollupDay(new Date(now.getTime() - 86_400_000)));
    this.events.emit(RUN_EVENTS.pruned, { runIds: [], before: cutoff });
    if (removed) this.logger.log({ removed, before: cutoff.toISOString() }, 'pruned old runs');
    return removed;
  }
}
