import { Inject, Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { withTimeout } from '../common/timeout';
import { RUN_EVENTS, RunEventMap } from '../runs/run-events';
import { RunTypeRegistry } from '../runs/run-types.registry';
import { RunsService } from '../runs/runs.service';

const QUEUE_TIMEOUT_MS = 1000;

/**
 * Prometheus metrics of this process: runs started and finished (by type and bucket), run durations,
 * and queue depths read from Redis at scrape time. A registry per app, so several apps in one process
 * (tests) never collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly logger = new Logger('Metrics');
  private readonly started: Counter<'type'>;
  private readonly finished: Counter<'type' | 'bucket'>;
  private readonly duration: Histogram<'type' | 'bucket'>;

  constructor(runTypes: RunTypeRegistry, runs: RunsService, @Inject(APP_CONFIG) config: AppConfig) {
    this.registry.setDefaultLabels({ role: config.role });
    collectDefaultMetrics({ register: this.registry });
    this.started = new Counter({
      name: 'ops_runs_started_total',
      help: 'Runs started (queued), by type',
      labelNames: ['type'],
      registers: [this.registry],
    });
    this.finished = new Counter({
      name: 'ops_runs_finished_total',
      help: 'Runs that reached a terminal status, by type and status bucket',
      labelNames: ['type', 'bucket'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'ops_run_duration_seconds',
      help: 'From start of processing to finish, by type and status bucket',
      labelNames: ['type', 'bucket'],
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers: [this.registry],
    });
    const logger = this.logger;
    const depth = (name: string, help: string, state: 'waiting' | 'active' | 'delayed' | 'failed') =>
      new Gauge({
        name,
        help,
        labelNames: ['queue'],
        registers: [this.registry],
        async collect() {
          for (const q of runTypes.queues()) {
            try {
              const counts = await withTimeout(runs.queue(q).getJobCounts(), QUEUE_TIMEOUT_MS, 'timeout');
              this.set({ queue: q }, counts[state]);
            } catch (e) {
              logger.debug({ err: e, queue: q }, 'queue depth unavailable');
            }
          }
        },
      });
    depth('ops_queue_waiting_jobs', 'Jobs waiting in each producer queue', 'waiting');
    depth('ops_queue_active_jobs', 'Jobs being processed in each producer queue', 'active');
    depth('ops_queue_delayed_jobs', 'Jobs waiting for a retry in each producer queue', 'delayed');
    depth('ops_queue_failed_jobs', 'Failed jobs kept in each producer queue', 'failed');
  }

  @OnEvent(RUN_EVENTS.queued)
  onQueued({ run }: RunEventMap['run.queued']): void {
    this.started.inc({ type: run.type });
  }

  @OnEvent(RUN_EVENTS.finished)
  onFinished({ run }: RunEventMap['run.finished']): void {
    this.finished.inc({ type: run.type, bucket: run.bucket });
    if (run.startedAt && run.finishedAt) {
      this.duration.observe(
        { type: run.type, bucket: run.bucket },
        (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000,
      );
    }
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
