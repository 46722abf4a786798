import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import type { Job } from 'bull';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QueueBoard } from '../queue';
import { classifyError, retryAfterOf, sanitizeError } from './failure-sanitizer';
import { RunContext, WorkerStopping } from './run-context';
import { RunTypeRegistry } from './run-types.registry';
import type { OperationRun } from './run';
import { RunsRepository } from './runs.repository';
import { JobData, RunNoLongerActive, RunsService, StartNotFresh } from './runs.service';

const STALLED = /stalled more than allowable limit/;
/** How long a stopping worker waits for a write already in flight before it hands the job back. */
const FENCE_MS = 1000;
/** How often a worker asks whether any of its running runs was cancelled (one statement for all). */
const CANCEL_POLL_MS = 2000;

/**
 * What Bull keeps of a failed attempt (its reason and stack, in Redis and on its board): a
 * sanitized copy of the error, still classified.
 */
function forQueue(e: unknown, reason: string): Error {
  const safe = sanitizeError(e);
  const err = Object.assign(new Error(safe.message), { reasonCode: reason, queueSafe: true });
  err.name = safe.name;
  err.stack = safe.stack ?? `${safe.name}: ${safe.message}`;
  return err;
}

/** The longest a provider's Retry-After is waited out: past it, the next attempt goes anyway. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** The pause Bull's own backoff would take before the next attempt (attempts made so far + 1). */
function backoffDelay(job: Job<JobData>): number {
  const b = job.opts.backoff as number | { type?: string; delay?: number } | undefined;
  if (typeof b === 'number') return b;
  const delay = b?.delay ?? 0;
  if (b?.type === 'exponential') return Math.round((2 ** (job.attemptsMade + 1) - 1) * delay);
  return delay;
}

/**
 * How long the job waits before its next attempt: its backoff, or the provider's Retry-After when
 * that is longer (bounded by MAX_RETRY_AFTER_MS). Bull reads the pause from the job's options when the
 * attempt fails, so this attempt's pause is set there; the options kept in Redis stay as they were.
 */
function retryDelay(job: Job<JobData>, err: unknown): number {
  const backoff = backoffDelay(job);
  const hint = retryAfterOf(err);
  const delay = hint === undefined ? backoff : Math.max(backoff, Math.min(hint, MAX_RETRY_AFTER_MS));
  job.opts.backoff = { type: 'fixed', delay };
  return delay;
}

interface ActiveJob {
  job: Job<JobData>;
  ctx: RunContext;
}

/**
 * The worker half of the hub: for every registered run type it processes that type's jobs on the
 * producer's queue, wraps the producer's handler with the lifecycle (running → outcomes → finished),
 * and turns failures into sanitized run failures. Transient errors are retried by Bull; a job Bull
 * gives up on (attempts spent, or stalled too often because its worker died) fails its run.
 */
@Injectable()
export class RunExecutor implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('RunExecutor');
  private readonly active = new Set<ActiveJob>();
  private stopping = false;
  private cancelWatch: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: RunTypeRegistry,
    private readonly runs: RunsService,
    private readonly repo: RunsRepository,
    private readonly board: QueueBoard,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Every producer queue on the Bull board, each job linking back to its run page.
    for (const name of this.registry.queues()) {
      // Without a listener an 'error' event (Redis went away) would crash the process; Bull reconnects itself.
      this.runs
        .queue(name)
        .on('error', (e) => this.logger.warn({ err: e, queue: name }, 'queue connection error'));
      this.board.addQueue(this.runs.queue(name), (data) =>
        typeof data.runId === 'number'
          ? { href: `/admin/runs/${data.runId}`, displayText: `Run #${data.runId}` }
          : undefined,
      );
    }
    if (!this.config.runsWorker) return;
    for (const def of this.registry.all()) {
      const queue = this.runs.queue(def.queue);
      // Whatever leaves a job for Bull is sanitized first (see forQueue).
      void queue.process(def.type, def.concurrency ?? this.config.queue.concurrency, (job: Job<JobData>) =>
        this.execute(job).catch((e: unknown) => {
          throw (e as { queueSafe?: boolean }).queueSafe ? e : forQueue(e, classifyError(e));
        }),
      );
    }
    for (const name of this.registry.queues()) {
      this.runs.queue(name).on('failed', (job: Job<JobData>, err: Error) => void this.onJobFailed(job, err));
    }
    this.cancelWatch = setInterval(() => void this.noticeCancellations(), CANCEL_POLL_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.cancelWatch);
  }

  /**
   * An operator's cancel is a database write; a handler learns of it on its context's `signal`
   * within CANCEL_POLL_MS (and at its next write, which is refused).
   */
  private async noticeCancellations(): Promise<void> {
    if (!this.active.size) return;
    try {
      const ended = await this.repo.endedAmong([...this.active].map((a) => a.ctx.id));
      for (const a of this.active) if (ended.has(a.ctx.id)) a.ctx.cancelled();
    } catch (e) {
      this.logger.debug({ err: e }, 'could not check for cancelled runs');
    }
  }

  async execute(job: Job<JobData>): Promise<void> {
    const { runId, seed } = job.data;
    const attempt = job.attemptsMade + 1;
    if (seed && attempt === 1) {
      try {
        await this.runHandler(job, this.runs.claimFresh(seed, String(job.id), attempt));
        return;
      } catch (e) {
        if (!(e instanceof StartNotFresh)) throw e;
        // The job was picked up before (its worker stalled or died) and that pickup started the run.
        this.logger.log({ runId, jobId: job.id }, 'run already started by an earlier pickup; resuming it');
      }
    }
    const run = await this.runs.markRunning(runId, String(job.id), attempt);
    if (!run) {
      this.logger.log({ runId, jobId: job.id }, 'run already ended; job dropped');
      return;
    }
    await this.runHandler(job, run);
  }

  private async runHandler(job: Job<JobData>, run: OperationRun): Promise<void> {
    const runId = run.id;
    const attempt = job.attemptsMade + 1;
    const def = this.registry.require(run.runType());
    const log = { runId, tenantId: run.tenantId, type: def.type, attempt };
    const ctx = new RunContext(run, this.runs, attempt, job.opts.attempts ?? 1);
    const entry = { job, ctx };
    this.active.add(entry);
    if (this.stopping) ctx.stop();
    try {
      await def.handler.handle(ctx);
      // The last counts-only outcomes (and a start not written yet) travel with the finishing write.
      await this.runs.finish(runId, run, await ctx.takeHeld());
      this.logger.log(log, 'run handler finished');
    } catch (e) {
      if (e instanceof StartNotFresh) throw e;
      // What was done before the error still counts (and the start is written, if it was deferred).
      const flushed: unknown = await ctx.flushHeld().then(
        () => undefined,
        (err: unknown) => err,
      );
      if (flushed instanceof StartNotFresh) throw flushed;
      if (
        e instanceof RunNoLongerActive ||
        flushed instanceof RunNoLongerActive ||
        ctx.signal.reason instanceof RunNoLongerActive
      ) {
        this.logger.log(log, 'run ended while its handler worked (cancelled); stopped');
        return;
      }
      if (e instanceof WorkerStopping || ctx.signal.reason instanceof WorkerStopping) {
        // Stopped at a batch boundary because this worker is shutting down: another worker resumes
        // it after the last committed batch. The job is left to the queue, not settled here.
        await this.handBack(entry);
        return new Promise<void>(() => undefined);
      }
      const reason = classifyError(e);
      if (ctx.isTransient(e)) {
        // The retry resumes after the last recorded item, no sooner than the provider asked.
        const delay = retryDelay(job, e);
        this.logger.warn(
          { ...log, err: e, reason, retryInMs: delay },
          'transient failure; the job will be retried',
        );
        await this.runs
          .waitForRetry(runId, reason, new Date(Date.now() + delay), run.tenantId)
          .catch((err: unknown) => this.logger.warn({ ...log, err }, 'could not record the wait on its run'));
        throw forQueue(e, reason);
      }
      this.logger.error({ ...log, err: e, reason }, 'run failed');
      await this.runs.fail(runId, { error: e });
    } finally {
      this.active.delete(entry);
    }
  }

  /**
   * A stopping worker (SIGTERM) takes no new jobs, asks running handlers to stop at their next batch
   * and gives them SHUTDOWN_GRACE_MS to get there. Jobs still running then are handed back: their
   * lock released and the job put back in the queue, so another worker resumes it at once instead of
   * waiting for the lock to expire. Queues are then closed without waiting for the abandoned handlers.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.config.runsWorker) return;
    this.stopping = true;
    const queues = this.registry.queues().map((name) => this.runs.queue(name));
    await Promise.all(queues.map((q) => q.pause(true, true).catch(() => undefined)));
    for (const a of this.active) a.ctx.stop();
    const deadline = Date.now() + this.config.queue.shutdownGraceMs;
    while (this.active.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await Promise.all([...this.active].map((a) => this.handBack(a)));
    await Promise.all(queues.map((q) => q.close(true).catch(() => undefined)));
  }

  private async handBack(a: ActiveJob): Promise<void> {
    this.active.delete(a);
    await a.ctx.fence(FENCE_MS);
    try {
      // Delayed until now: the queue promotes it to waiting at once, without spending an attempt.
      await (a.job as Job<JobData> & { moveToDelayed(at: number): Promise<void> }).moveToDelayed(Date.now());
      this.logger.warn({ runId: a.ctx.id, jobId: a.job.id }, 'worker stopping: job handed back to the queue');
    } catch (e) {
      // Its lock is gone already (another worker took it over): nothing left to hand back.
      this.logger.warn({ err: e, runId: a.ctx.id, jobId: a.job.id }, 'could not hand the job back');
    }
  }

  /**
   * Bull's own verdicts: the last attempt of a transient failure, or a job that stalled too often
   * (its worker was killed). The run must not stay active.
   */
  private async onJobFailed(job: Job<JobData> | undefined, err: Error): Promise<void> {
    if (!job?.data?.runId) return;
    const stalled = STALLED.test(err?.message ?? '');
    const willRetry = !stalled && job.attemptsMade < (job.opts.attempts ?? 1);
    if (willRetry) return;
    try {
      const ended = await this.runs.fail(
        job.data.runId,
        stalled
          ? {
              reasonCode: 'worker_lost',
              message: 'The worker processing this run stopped responding and the job was given up.',
            }
          : { error: err },
      );
      if (ended)
        this.logger.warn({ runId: job.data.runId, stalled }, 'job given up by the queue; run failed');
    } catch (e) {
      this.logger.error({ err: e, runId: job.data.runId }, 'could not record a failed job on its run');
    }
  }
}
