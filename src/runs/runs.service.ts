import { getQueueToken } from '@nestjs/bull';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Queue } from 'bull';
import { AppError } from '../common/app-error';
import { withTimeout } from '../common/timeout';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Db, Sql } from '../database/db';
import { Dialect } from '../database/dialect';
import { appendFailures, digestFailures, ReasonCode, RunFailure, toFailure } from './failure-sanitizer';
import type { RunTypeDefinition, Tx } from './producer';
import { producerTx } from './producer-tx';
import { RunCounters } from './run-counters';
import { RunPageCache } from './run-page-cache';
import { RUN_EVENTS, RunEventMap, RunEventSnapshot } from './run-events';
import { finalStatus, isActive, RunStatus, splitRunType, StatusBucket, statusBucket } from './run-status';
import { RunTypeRegistry } from './run-types.registry';
import { OperationRun } from './run';
import { RunTargetNames } from './run-target-names';
import { Counts, EndGuard, RunsRepository } from './runs.repository';

export interface StartRunInput {
  tenantId: number;
  /** The initiator; null for system runs. */
  userId: number | null;
  type: string;
  payload?: Record<string, unknown>;
  /** Items the run will process; total_items defaults to their count. */
  itemIds?: string[];
  totalItems?: number;
  /** While a run with this key is pending/running in the tenant, starting again returns that run. */
  idempotencyKey?: string | null;
  /** What the run is about (e.g. `backup_set:12`), for runsForSubject and activeRunFor. */
  subject?: string | null;
  parentRunId?: number | null;
}

export interface StartRunResult {
  run: OperationRun;
  /** True when an active run with the same idempotency key was returned instead of a new one. */
  reused: boolean;
}

export interface JobData {
  runId: number;
  tenantId: number;
  /**
   * The run as it was queued, when it is small: a worker picking the job up for the first time then
   * needs no read to start it (a run that has moved on since is read as usual).
   */
  seed?: Record<string, unknown>;
}

/** A run small enough to travel in its job (Bull serializes it); bigger selections are read from the table. */
function isSmall(run: OperationRun): boolean {
  return (run.itemIds?.length ?? 0) <= 50 && JSON.stringify(run.payload ?? {}).length <= 2048;
}

export function jobIdFor(runId: number): string {
  return `run-${runId}`;
}

/** Raised inside a handler when its run was cancelled or ended elsewhere: stop quietly. */
export class RunNoLongerActive extends Error {
  constructor(readonly runId: number) {
    super(`Run ${runId} is no longer active`);
  }
}

/** A fresh run's deferred start found the run already started by an earlier pickup of its job. */
export class StartNotFresh extends Error {
  constructor(readonly runId: number) {
    super(`Run ${runId} was already started by an earlier pickup of its job`);
  }
}

const ENQUEUE_FAILED_MESSAGE = 'The job queue was unreachable, so the run could not be queued.';
const ZERO: Counts = { succeeded: 0, failed: 0, skipped: 0 };

/**
 * The lifecycle of operation runs and the hub's read API for other modules: start (or reuse), mark
 * running, record item outcomes, finish, fail; a run of a tenant, the latest of a type, the runs of
 * a subject. Every status write sets status_bucket in the same statement and emits a typed run.*
 * event once it is committed.
 *
 * This is the hot path of every run, and on this kind of machine each statement's round trip is what
 * a run costs, so it keeps to one statement per step (RunsRepository): insert to start, one per batch
 * of outcomes, one to finish. Marking a fresh run running travels with its first write (claimFresh),
 * so a short run is one INSERT and one UPDATE. The daily counters follow behind (RunCounters).
 */
@Injectable()
export class RunsService {
  private readonly logger = new Logger('Runs');

  constructor(
    private readonly repo: RunsRepository,
    private readonly targets: RunTargetNames,
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly registry: RunTypeRegistry,
    private readonly events: EventEmitter2,
    private readonly moduleRef: ModuleRef,
    private readonly counters: RunCounters,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pages: RunPageCache,
  ) {}

  // ── reads (the hub's read API) ─────────────────────────────────────────────

  /** A run of this tenant, or not-found: another tenant's run id is indistinguishable from none. */
  async getForTenant(tenantId: number, id: number): Promise<OperationRun> {
    const run = await this.repo.inTenant(tenantId, id);
    if (!run) throw AppError.notFound('Run');
    return run;
  }

  /** A run of this tenant and of this type, or not-found (a download route of a producer, say). */
  async getOfType(tenantId: number, id: number, type: string): Promise<OperationRun> {
    const run = await this.repo.inTenant(tenantId, id);
    if (!run || run.runType() !== type) throw AppError.notFound('Run');
    return run;
  }

  findById(id: number): Promise<OperationRun | null> {
    return this.repo.byId(id);
  }

  /** A tenant's latest runs of a type, newest first (optionally in one bucket), with their payloads. */
  latestOfType(
    tenantId: number,
    type: string,
    opts: { bucket?: StatusBucket; limit?: number } = {},
  ): Promise<OperationRun[]> {
    return this.repo.latestOfType(tenantId, splitRunType(type), {
      bucket: opts.bucket,
      limit: opts.limit ?? 1,
    });
  }

  /** The runs started about a subject (`backup_set:12`), newest first. */
  runsForSubject(tenantId: number, subject: string, limit = 20): Promise<OperationRun[]> {
    return this.repo.forSubject(tenantId, subject, { limit });
  }

  /** The queued or running run about a subject, if any. */
  async activeRunFor(tenantId: number, subject: string): Promise<OperationRun | null> {
    return (await this.repo.forSubject(tenantId, subject, { activeOnly: true, limit: 1 }))[0] ?? null;
  }

  async isCancelled(id: number): Promise<boolean> {
    const status = await this.repo.statusOf(id);
    return status === null || status === 'aborted';
  }

  /** Every failed item id of a run, in no particular order. */
  failedItemIds(runId: number): Promise<string[]> {
    return this.repo.failedItemIds(runId);
  }

  // ── start ──────────────────────────────────────────────────────────────────

  async start(input: StartRunInput): Promise<StartRunResult> {
    const def = this.registry.require(input.type);
    const key = input.idempotencyKey ? input.idempotencyKey.slice(0, 191) : null;
    const target = await this.targetOf(def, input);
    let run: OperationRun | null = null;
    // A reused run can finish between our failed insert and our read; then a new run is right.
    for (let attempt = 0; !run && attempt < 5; attempt++) {
      try {
        run = await this.insertPending(input, key, target);
      } catch (e) {
        if (!key || !this.dialect.isUniqueViolation(e)) throw e;
        const existing = await this.repo.activeByKey(input.tenantId, key);
        if (existing) return { run: existing, reused: true };
      }
    }
    if (!run) throw new Error(`Could not start ${input.type}: the idempotency key kept changing hands`);
    await this.enqueue(run, def.queue);
    return { run, reused: false };
  }

  /**
   * What the run acts on, in its producer's words (RunTypeDefinition.target), as one line for the
   * list. A producer's mistake here never stops a start: the run is listed without a target.
   */
  private async targetOf(def: RunTypeDefinition, input: StartRunInput): Promise<string | null> {
    if (!def.target) return null;
    try {
      const text = await def.target({
        tenantId: input.tenantId,
        payload: input.payload ?? {},
        subject: input.subject ?? null,
        itemIds: input.itemIds ?? null,
      });
      const line = typeof text === 'string' ? text.replace(/\s+/g, ' ').trim() : '';
      return line ? line.slice(0, 191) : null;
    } catch (e) {
      this.logger.warn(
        { err: e, type: input.type, tenantId: input.tenantId },
        'run target could not be named',
      );
      return null;
    }
  }

  private async insertPending(
    input: StartRunInput,
    key: string | null,
    target: string | null,
  ): Promise<OperationRun> {
    const { resource, action } = splitRunType(input.type);
    const now = new Date();
    const itemIds = input.itemIds ?? null;
    const run = Object.assign(new OperationRun(), {
      tenantId: input.tenantId,
      userId: input.userId,
      resource,
      action,
      status: 'pending' as RunStatus,
      statusBucket: 'queued' as StatusBucket,
      totalItems: input.totalItems ?? itemIds?.length ?? 0,
      processedItems: 0,
      succeeded: 0,
      failed: 0,
      skipped: 0,
      itemIds,
      payload: input.payload ?? {},
      failures: [],
      failuresOmitted: 0,
      idempotencyKey: key,
      activeKey: key,
      subject: input.subject ? input.subject.slice(0, 191) : null,
      target,
      topReason: null,
      durationMs: null,
      jobId: null,
      attempts: 0,
      parentRunId: input.parentRunId ?? null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
      retryAt: null,
      retryReason: null,
    });
    run.id = await this.repo.insertPending(run);
    this.pages.changed([run.tenantId]);
    // A target new to this process may be one a search of its tenant does not know yet.
    void this.targets.added(run.tenantId, run.target);
    // A run counts as "queued" (in flight) from its start until it ends.
    this.counters.add(run, [['queued', 1]]);
    this.emit(RUN_EVENTS.queued, { run: this.snapshot(run), reused: false });
    return run;
  }

  /**
   * Puts the job on the producer's queue. If Redis does not take it in time the run is failed with
   * queue_unavailable and the caller gets a clear error: no run is left pending without a job. A job
   * that still lands later finds its run terminal and is dropped.
   */
  async enqueue(run: OperationRun, queueName: string): Promise<void> {
    const queue = this.queue(queueName);
    const data: JobData = {
      runId: run.id,
      tenantId: run.tenantId,
      ...(isSmall(run) ? { seed: { ...run } } : {}),
    };
    try {
      await withTimeout(
        queue.add(run.runType(), data, { jobId: jobIdFor(run.id) }),
        this.config.queue.enqueueTimeoutMs,
        `enqueue timed out after ${this.config.queue.enqueueTimeoutMs} ms`,
      );
    } catch (e) {
      this.logger.error({ err: e, runId: run.id, tenantId: run.tenantId }, 'could not enqueue run');
      await this.fail(run.id, { reasonCode: 'queue_unavailable', message: ENQUEUE_FAILED_MESSAGE });
      throw new AppError(
        'queue_unavailable',
        'The job queue (Redis) is not reachable, so the run could not be started. Nothing was queued; try again in a moment.',
      );
    }
  }

  queue(name: string): Queue {
    return this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
  }

  /**
   * Whether a start would reach Redis now: every producer queue's own connection is up. After an
   * outage these reconnect on their own schedule, later than a fresh probe connection would.
   */
  queuesReady(): boolean {
    return this.registry.queues().every((name) => this.queue(name).client.status === 'ready');
  }

  /** Job counts per producer queue, for metrics (each queue asked once). */
  async queueCounts(
    timeoutMs: number,
  ): Promise<Array<{ queue: string; counts: Record<string, number> | null }>> {
    return Promise.all(
      this.registry.queues().map(async (name) => ({
        queue: name,
        counts: await withTimeout(this.queue(name).getJobCounts(), timeoutMs, 'timeout').then(
          (c) => c as unknown as Record<string, number>,
          () => null,
        ),
      })),
    );
  }

  // ── worker side ────────────────────────────────────────────────────────────

  /**
   * A fresh run's first pickup (its job carries the queued row as `seed`): the run as the handler will
   * see it, started in memory only. The start is written by its context before the first write of the
   * handler or after HOLD_MS (writeStart), or, when the handler is done sooner, by the finishing write
   * itself (finish) — so a short run costs one INSERT and one UPDATE, like a bare job that records itself.
   */
  claimFresh(seed: Record<string, unknown>, jobId: string, attempt: number): OperationRun {
    const now = new Date();
    return Object.assign(new OperationRun(), seed, {
      createdAt: new Date(String(seed.createdAt)),
      status: 'pending' as RunStatus,
      statusBucket: 'queued' as StatusBucket,
      startedAt: now,
      finishedAt: null,
      updatedAt: now,
      attempts: attempt,
      jobId,
    });
  }

  /**
   * Writes the start of a run claimed by claimFresh, guarded on the row still being the queued one.
   * Throws RunNoLongerActive when the run ended meanwhile (cancelled while queued) and StartNotFresh
   * when an earlier pickup of the same job started it (its worker stalled): then the job is run again
   * through markRunning, from the counts in the table.
   */
  async writeStart(run: OperationRun): Promise<void> {
    const startedAt = run.startedAt ?? new Date();
    if (!(await this.repo.writeStart(run.id, startedAt, run.attempts, run.jobId))) {
      const current = await this.repo.byId(run.id);
      if (!current || !isActive(current.status)) throw new RunNoLongerActive(run.id);
      throw new StartNotFresh(run.id);
    }
    this.pages.changed([run.tenantId]);
    Object.assign(run, { status: 'running', statusBucket: 'running', startedAt });
    this.emit(RUN_EVENTS.started, { run: this.snapshot(run), attempt: run.attempts });
  }

  /**
   * Called when a worker picks up a job that is not a fresh run's first pickup (a retry, a job put
   * back by reconcile, a run too big to travel in its job). Returns null when the run already ended
   * (cancelled, or failed because its enqueue timed out) so the job is dropped.
   */
  async markRunning(runId: number, jobId: string, attempt: number): Promise<OperationRun | null> {
    const now = new Date();
    const run = await this.repo.byId(runId);
    if (!run || !isActive(run.status)) return null;
    const startedAt = run.startedAt ?? now;
    if (!(await this.repo.markRunning(runId, startedAt, attempt, jobId, now))) return null;
    this.pages.changed([run.tenantId]);
    Object.assign(run, {
      status: 'running',
      statusBucket: 'running',
      startedAt,
      attempts: attempt,
      jobId,
      updatedAt: now,
    });
    this.emit(RUN_EVENTS.started, { run: this.snapshot(run), attempt });
    return run;
  }

  /** `tenantId` (the run's) keeps other tenants' cached list pages; without it all are dropped. */
  async setTotal(runId: number, total: number, tenantId?: number): Promise<void> {
    if (!Number.isInteger(total) || total < 0)
      throw new Error(`total must be a non-negative integer, got ${total}`);
    if (await this.repo.setTotal(runId, total)) {
      this.pages.changed(tenantId === undefined ? 'all' : [tenantId]);
      return;
    }
    // A run cancelled meanwhile keeps the counts it was cancelled with: its handler stops here.
    const status = await this.repo.statusOf(runId);
    if (status === null || !isActive(status)) throw new RunNoLongerActive(runId);
    throw new Error(`Run ${runId}: total ${total} is below the items already processed`);
  }

  /**
   * An attempt failed transiently and the next one is due at `at`: the run's page says it waits, and
   * why, until the next attempt starts (markRunning) or the run ends. Best effort: a run that ended
   * meanwhile is left as it is.
   */
  async waitForRetry(runId: number, reason: ReasonCode, at: Date, tenantId?: number): Promise<void> {
    if (await this.repo.setRetryWait(runId, reason, at))
      this.pages.changed(tenantId === undefined ? 'all' : [tenantId]);
  }

  /**
   * Adds item outcomes in one atomic UPDATE whose WHERE keeps processed ≤ total and the run running,
   * so concurrent recorders can never break the counts. The producer's own writes (`write`) and the
   * failure entries commit in the same transaction. `known` (from the run's context) spares a read
   * for the progress event when there is nothing else to write.
   */
  async recordItems(
    runId: number,
    delta: Counts,
    failures: RunFailure[],
    write?: (tx: Tx) => Promise<void>,
    known?: { tenantId: number; type: string; processedBefore: number; total: number },
  ): Promise<void> {
    const n = delta.succeeded + delta.failed + delta.skipped;
    for (const v of [delta.succeeded, delta.failed, delta.skipped]) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`item counts must be non-negative integers`);
    }
    if (n === 0 && !write) return;

    if (known && !write && !failures.length) {
      if (!(await this.repo.addCounts(runId, delta))) await this.refuseRecord(runId, n);
      this.pages.changed([known.tenantId]);
      this.emitProgress(runId, known.tenantId, known.type, known.processedBefore + n, known.total);
      return;
    }

    const after = await this.db.transaction(async (tx) => {
      if (write) await write(producerTx(tx, this.dialect));
      if (n === 0) return null;
      if (!(await this.repo.addCounts(runId, delta, tx))) await this.refuseRecord(runId, n, tx);
      await this.repo.insertFailedItems(
        tx,
        runId,
        failures.map((f) => f.item_id).filter((id): id is string => id !== null),
      );
      const progress = await this.repo.progressOf(tx, runId, failures.length > 0);
      if (failures.length) {
        const merged = appendFailures(progress.failures, progress.omitted, failures);
        await this.repo.saveFailures(tx, runId, merged.failures, merged.omitted);
      }
      return progress;
    });
    if (!after) return;
    this.pages.changed([after.tenantId]);
    this.emitProgress(runId, after.tenantId, after.type, after.processed, after.total);
  }

  /** Why an outcome update matched no row: the run ended (cancelled) or the counts would break. */
  private async refuseRecord(runId: number, n: number, tx?: Sql): Promise<never> {
    const run = await this.repo.byId(runId, tx);
    if (!run || run.status !== 'running') throw new RunNoLongerActive(runId);
    throw new Error(
      `Run ${runId}: recording ${n} more items would exceed total_items (${run.processedItems}/${run.totalItems})`,
    );
  }

  /**
   * Ends a run from its counts: completed, completed_with_errors or failed. `known` is the run as its
   * context tracked it and `held` the outcomes it has not written yet: one UPDATE adds those and sets
   * the final status, provided the table still holds the counts the context saw (else the row is read).
   */
  async finish(runId: number, known?: OperationRun, held: Counts = ZERO): Promise<OperationRun | null> {
    const n = held.succeeded + held.failed + held.skipped;
    if (known && known.status === 'pending') {
      // Done before its start was written (claimFresh): start and finish in one statement.
      const after = Object.assign(new OperationRun(), known, { ...held, processedItems: n });
      const ended = await this.endIf(after, finalStatus(after), [], {
        kind: 'startAndFinish',
        startedAt: known.startedAt ?? new Date(),
        attempts: known.attempts,
        jobId: known.jobId,
        counts: held,
      });
      if (ended) return ended;
      const current = await this.repo.byId(runId);
      if (!current || !isActive(current.status)) return current;
      if (current.status === 'pending' && n > current.totalItems)
        throw new Error(
          `Run ${runId}: recording ${n} items would exceed total_items (${current.totalItems})`,
        );
      throw new StartNotFresh(runId);
    }
    if (known && known.status === 'running') {
      const after = Object.assign(new OperationRun(), known, {
        succeeded: known.succeeded + held.succeeded,
        failed: known.failed + held.failed,
        skipped: known.skipped + held.skipped,
        processedItems: known.processedItems + n,
      });
      const ended = await this.endIf(after, finalStatus(after), [], {
        kind: 'addCounts',
        held,
        processedBefore: known.processedItems,
        failedBefore: known.failed,
      });
      if (ended) return ended;
    }
    if (n) await this.recordItems(runId, held, []);
    return this.end(runId, (run) => ({ status: finalStatus(run), failures: [] }));
  }

  /**
   * Ends a run as failed with one run-level failure entry (item_id null): the error is classified and
   * sanitized here; the raw error belongs in the log only.
   */
  async fail(
    runId: number,
    failure: { error?: unknown; reasonCode?: string; message?: string },
  ): Promise<OperationRun | null> {
    const entry = toFailure({ itemId: null, ...failure });
    return this.end(runId, () => ({ status: 'failed', failures: [entry] }));
  }

  /** Ends an active run as aborted (cancelled by an operator). */
  async abort(runId: number, entry: RunFailure): Promise<OperationRun | null> {
    return this.end(runId, () => ({ status: 'aborted', failures: [entry] }));
  }

  private async end(
    runId: number,
    decide: (run: OperationRun) => { status: RunStatus; failures: RunFailure[] },
  ): Promise<OperationRun | null> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const run = await this.repo.byId(runId);
      if (!run || !isActive(run.status)) return run;
      const { status, failures } = decide(run);
      const ended = await this.endIf(run, status, failures);
      if (ended) return ended;
      // Its status changed under us (e.g. pending → running): decide again.
    }
    return this.repo.byId(runId);
  }

  /**
   * The terminal write (RunsRepository.end) of `run` as it will be, only if the row is still in the
   * status it was read in; then the counters and run.started (for a run started and finished in one
   * write) and run.finished.
   */
  private async endIf(
    run: OperationRun,
    status: RunStatus,
    failures: RunFailure[],
    guard: EndGuard = { kind: 'plain' },
  ): Promise<OperationRun | null> {
    const bucket = statusBucket(status, run.failed);
    const merged = failures.length ? appendFailures(run.failures ?? [], run.failuresOmitted, failures) : null;
    const now = new Date();
    const ended = Object.assign(new OperationRun(), run, {
      status,
      statusBucket: bucket,
      finishedAt: now,
      updatedAt: now,
      activeKey: null,
      ...(merged ? { failures: merged.failures, failuresOmitted: merged.omitted } : {}),
    });
    const list = merged ? { list: merged.failures, omitted: merged.omitted } : null;
    if (!(await this.repo.end(run, status, bucket, list, now, guard))) return null;
    this.pages.changed([run.tenantId]);
    this.counters.add(run, [
      ['queued', -1],
      [status === 'aborted' ? 'cancelled' : bucket, 1],
    ]);
    if (guard.kind === 'startAndFinish') {
      const started = Object.assign(new OperationRun(), ended, {
        status: 'running',
        statusBucket: 'running',
        finishedAt: null,
      });
      this.emit(RUN_EVENTS.started, { run: this.snapshot(started), attempt: guard.attempts });
    }
    this.emit(RUN_EVENTS.finished, { run: this.snapshot(ended) });
    return ended;
  }

  // ── events ─────────────────────────────────────────────────────────────────

  snapshot(run: OperationRun): RunEventSnapshot {
    return {
      id: run.id,
      tenantId: run.tenantId,
      userId: run.userId,
      type: run.runType(),
      label: this.registry.labelOf(run.runType()),
      status: run.status,
      bucket: run.statusBucket,
      totalItems: run.totalItems,
      processedItems: run.processedItems,
      succeeded: run.succeeded,
      failed: run.failed,
      skipped: run.skipped,
      firstFailure: run.failures?.find((f) => f.item_id === null) ?? run.failures?.[0] ?? null,
      topReason: digestFailures(run.failures ?? [], run.failuresOmitted)[0] ?? null,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
    };
  }

  private emitProgress(id: number, tenantId: number, type: string, processed: number, total: number): void {
    this.emit(RUN_EVENTS.progress, { run: { id, tenantId, type }, processed, total });
  }

  private emit<K extends keyof RunEventMap>(name: K, payload: RunEventMap[K]): void {
    try {
      this.events.emit(name, payload);
    } catch (e) {
      // A listener's bug must never undo a lifecycle step that already committed.
      this.logger.error({ err: e, event: name }, 'run event listener failed');
    }
  }
}
