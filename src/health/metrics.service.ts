import { Inject, Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { RUN_EVENTS, RunEventMap, RunsService } from '../runs';

const QUEUE_TIMEOUT_MS = 1000;
const DEPTHS = {
  waiting: 'Jobs waiting in each producer queue',
  active: 'Jobs being processed in each producer queue',
  delayed: 'Jobs waiting for a retry in each producer queue',
  failed: 'Failed jobs kept in each producer queue',
} as const;
type DepthState = keyof typeof DEPTHS;

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
  private readonly depths: Record<DepthState, Gauge<'queue'>>;

  constructor(
    private readonly runs: RunsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
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
    const depth = (state: DepthState) =>
      new Gauge({
        name: `ops_queue_${state}_jobs`,
        help: DEPTHS[state],
        labelNames: ['queue'],
        registers: [this.registry],
      });
    this.depths = {
      waiting: depth('waiting'),
      active: depth('active'),
      delayed: depth('delayed'),
      failed: depth('failed'),
    };
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

  async metrics(): Promise<string> {
    await this.readQueueDepths();
    return this.registry.metrics();
  }

  /** Queue depths from Redis, one read per queue per scrape; a queue that does not answer keeps its last values. */
  private async readQueueDepths(): Promise<void> {
    for (const { queue, counts } of await this.runs.queueCounts(QUEUE_TIMEOUT_MS)) {
      if (!counts) {
        this.logger.debug({ queue }, 'queue depth unavailable');
        continue;
      }
      for (const state of Object.keys(DEPTHS) as DepthState[])
        this.depths[state].set({ queue }, counts[state] ?? 0);
    }
  }
}
