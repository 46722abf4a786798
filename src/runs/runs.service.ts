import { getQueueToken } from '@nestjs/bull';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Queue } from 'bull';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../common/app-error';
import { withTimeout } from '../common/timeout';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { exec, insertIgnore, isUniqueViolation, toDbDate } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { appendFailures, RunFailure, toFailure } from './failure-sanitizer';
import { RUN_EVENTS, RunEventMap, RunEventSnapshot } from './run-events';
import { RunCounters } from './run-counters';
import { rowToRun, RUN_COLUMNS } from './run-row';
import { finalStatus, isActive, RunStatus, splitRunType, StatusBucket, statusBucket } from './run-status';
import type { Counts } from './run-context';
import { RunTypeRegistry } from './run-types.registry';
import { OperationRun } from './run.entity';

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

/**
 * The lifecycle of operation runs and the only writer of the runs table: start (or reuse), mark
 * running, record item outcomes, finish, fail. Every status write sets status_bucket in the same
 * statement, and emits a typed run.* event once it is committed.
 *
 * This is the hot path of every run, and on this kind of machine each statement's round trip is
 * what a run costs, so it speaks plain SQL and keeps to one statement per step: insert to start,
 * one per batch of outcomes, one to finish. Marking a fresh run running travels with its first
 * write (claimFresh), so a short run is one INSERT and one UPDATE. The daily counters follow behind
 * (RunCounters), summed over many runs.
 */
@Injectable()
export class RunsService {
  private readonly logger = new Logger('Runs');

  constructor(
    private readonly ds: DataSource,
    private readonly tx: TransactionRunner,
    private readonly registry: RunTypeRegistry,
    private readonly events: EventEmitter2,
    private readonly moduleRef: ModuleRef,
    private readonly counters: RunCounters,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get mysql(): boolean {
    return this.tx.isMysql;
  }

  private at(d: Date): Date | string {
    return toDbDate(d, this.mysql);
  }

  // ── reads ──────────────────────────────────────────────────────────────────

  /** A run of this tenant, or not-found: another tenant's run id is indistinguishable from none. */
  async getForTenant(tenantId: number, id: number): Promise<OperationRun> {
    const [row] = await this.ds.query(
      `SELECT ${RUN_COLUMNS} FROM operation_runs WHERE id = ? AND tenant_id = ?`,
      [id, tenantId],
    );
    if (!row) throw AppError.notFound('Run');
    return rowToRun(row);
  }

  async findById(id: number, em: EntityManager = this.ds.manager): Promise<OperationRun | null> {
    const [row] = await em.query(`SELECT ${RUN_COLUMNS} FROM operation_runs WHERE id = ?`, [id]);
    return row ? rowToRun(row) : null;
  }

  async isCancelled(id: number): Promise<boolean> {
    const [row] = await this.ds.query('SELECT status FROM operation_runs WHERE id = ?', [id]);
    return !row || row.status === 'aborted';
  }

  /** The active run holding this idempotency key in the tenant, if any. */
  async findActiveByKey(tenantId: number, idempotencyKey: string): Promise<OperationRun | null> {
    const [row] = await this.ds.query(
      `SELECT ${RUN_COLUMNS} FROM operation_runs WHERE tenant_id = ? AND active_key = ?`,
      [tenantId, idempotencyKey],
    );
    return row ? rowToRun(row) : null;
  }

  /** Every failed item id of a run, in no particular order. */
  async failedItemIds(runId: number): Promise<string[]> {
    const rows: Array<{ item_id: string }> = await this.ds.query(
      'SELECT item_id FROM run_failed_items WHERE run_id = ?',
      [runId],
    );
    return rows.map((r) => r.item_id);
  }

  // ── start ──────────────────────────────────────────────────────────────────

  async start(input: StartRunInput): Promise<StartRunResult> {
    const def = this.registry.require(input.type);
    const key = input.idempotencyKey ? input.idempotencyKey.slice(0, 191) : null;
    let run: OperationRun | null = null;
    // A reused run can finish between our failed insert and our read; then a new run is right.
    for (let attempt = 0; !run && attempt < 5; attempt++) {
      try {
        run = await this.insertPending(input, key);
      } catch (e) {
        if (!key || !isUniqueViolation(e)) throw e;
        const existing = await this.findActiveByKey(input.tenantId, key);
        if (existing) return { run: existing, reused: true };
      }
    }
    if (!run) throw new Error(`Could not start ${input.type}: the idempotency key kept changing hands`);
    await this.enqueue(run, def.queue);
    return { run, reused: false };
  }

  private async insertPending(input: StartRunInput, key: string | null): Promise<OperationRun> {
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
      jobId: null,
      attempts: 0,
      parentRunId: input.parentRunId ?? null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    });
    const { insertId } = await exec(
      this.ds.manager,
      `INSERT INTO operation_runs (tenant_id, user_id, resource, action, status, status_bucket, total_items, processed_items,
         succeeded, failed, skipped, item_ids, payload, failures, failures_omitted, idempotency_key, active_key, attempts,
         parent_run_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', 'queued', ?, 0, 0, 0, 0, ?, ?, '[]', 0, ?, ?, 0, ?, ?, ?)`,
      [
        run.tenantId,
        run.userId,
        resource,
        action,
        run.totalItems,
        itemIds ? JSON.stringify(itemIds) : null,
        JSON.stringify(run.payload),
        key,
        key,
        run.parentRunId,
        this.at(now),
        this.at(now),
      ],
    );
    run.id = insertId;
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
    const { affected } = await exec(
      this.ds.manager,
      `UPDATE operation_runs SET status = 'running', status_bucket = 'running', started_at = ?, attempts = ?, job_id = ?, updated_at = ?
       WHERE id = ? AND status = 'pending' AND processed_items = 0`,
      [this.at(startedAt), run.attempts, run.jobId, this.at(new Date()), run.id],
    );
    if (!affected) {
      const current = await this.findById(run.id);
      if (!current || !isActive(current.status)) throw new RunNoLongerActive(run.id);
      throw new StartNotFresh(run.id);
    }
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
    const run = await this.findById(runId);
    if (!run || !isActive(run.status)) return null;
    const startedAt = run.startedAt ?? now;
    const { affected } = await exec(
      this.ds.manager,
      `UPDATE operation_runs SET status = 'running', status_bucket = 'running', started_at = ?, attempts = ?, job_id = ?, updated_at = ?
       WHERE id = ? AND status IN ('pending', 'running')`,
      [this.at(startedAt), attempt, jobId, this.at(now), runId],
    );
    if (!affected) return null;
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

  async setTotal(runId: number, total: number): Promise<void> {
    if (!Number.isInteger(total) || total < 0)
      throw new Error(`total must be a non-negative integer, got ${total}`);
    const { affected } = await exec(
      this.ds.manager,
      'UPDATE operation_runs SET total_items = ?, updated_at = ? WHERE id = ? AND processed_items <= ?',
      [total, this.at(new Date()), runId, total],
    );
    if (!affected) throw new Error(`Run ${runId}: total ${total} is below the items already processed`);
  }

  /**
   * Adds item outcomes in one atomic UPDATE whose WHERE keeps processed ≤ total and the run running,
   * so concurrent recorders can never break the counts. The producer's own writes (`work`) and the
   * failure entries commit in the same transaction. `known` (from the run's context) spares a read
   * for the progress event when there is nothing else to write.
   */
  async recordItems(
    runId: number,
    delta: { succeeded: number; failed: number; skipped: number },
    failures: RunFailure[],
    work?: (em: EntityManager) => Promise<void>,
    known?: { tenantId: number; type: string; processedBefore: number; total: number },
  ): Promise<void> {
    const n = delta.succeeded + delta.failed + delta.skipped;
    for (const v of [delta.succeeded, delta.failed, delta.skipped]) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`item counts must be non-negative integers`);
    }
    if (n === 0 && !work) return;
    const count = (em: EntityManager) =>
      exec(
        em,
        `UPDATE operation_runs SET succeeded = succeeded + ?, failed = failed + ?, skipped = skipped + ?,
           processed_items = processed_items + ?, updated_at = ?
         WHERE id = ? AND status = 'running' AND processed_items + ? <= total_items`,
        [delta.succeeded, delta.failed, delta.skipped, n, this.at(new Date()), runId, n],
      );

    if (known && !work && !failures.length) {
      if (!(await count(this.ds.manager)).affected) await this.refuseRecord(runId, n);
      this.emitProgress(runId, known.tenantId, known.type, known.processedBefore + n, known.total);
      return;
    }

    const after = await this.tx.run(async (em) => {
      if (work) await work(em);
      if (n === 0) return null;
      if (!(await count(em)).affected) await this.refuseRecord(runId, n, em);
      const failedIds = failures.map((f) => f.item_id).filter((id): id is string => id !== null);
      if (failedIds.length) {
        await insertIgnore(
          em,
          this.mysql,
          'run_failed_items',
          ['run_id', 'item_id'],
          failedIds.map((id) => [runId, id.slice(0, 191)]),
        );
      }
      const [row] = await em.query(
        `SELECT tenant_id, resource, action, processed_items, total_items, failures, failures_omitted FROM operation_runs WHERE id = ?${
          this.mysql && failures.length ? ' FOR UPDATE' : ''
        }`,
        [runId],
      );
      if (failures.length) {
        const current = rowToRun({ ...row, id: runId });
        const merged = appendFailures(current.failures ?? [], current.failuresOmitted, failures);
        await em.query('UPDATE operation_runs SET failures = ?, failures_omitted = ? WHERE id = ?', [
          JSON.stringify(merged.failures),
          merged.omitted,
          runId,
        ]);
      }
      return row as Record<string, unknown>;
    });
    if (after) {
      this.emitProgress(
        runId,
        Number(after.tenant_id),
        `${after.resource}.${after.action}`,
        Number(after.processed_items),
        Number(after.total_items),
      );
    }
  }

  /** Why an outcome update matched no row: the run ended (cancelled) or the counts would break. */
  private async refuseRecord(runId: number, n: number, em?: EntityManager): Promise<never> {
    const run = await this.findById(runId, em);
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
  async finish(
    runId: number,
    known?: OperationRun,
    held: Counts = { succeeded: 0, failed: 0, skipped: 0 },
  ): Promise<OperationRun | null> {
    const n = held.succeeded + held.failed + held.skipped;
    if (known && known.status === 'pending') {
      // Done before its start was written (claimFresh): start and finish in one statement.
      const after = Object.assign(new OperationRun(), known, {
        succeeded: held.succeeded,
        failed: held.failed,
        skipped: held.skipped,
        processedItems: n,
      });
      const ended = await this.endIf(after, finalStatus(after), [], {
        set: ', started_at = ?, attempts = ?, job_id = ?, succeeded = ?, failed = ?, skipped = ?, processed_items = ?',
        setParams: [
          this.at(known.startedAt ?? new Date()),
          known.attempts,
          known.jobId,
          held.succeeded,
          held.failed,
          held.skipped,
          n,
        ],
        where: ' AND processed_items = 0 AND total_items >= ?',
        whereParams: [n],
        beforeFinished: (run) =>
          this.emit(RUN_EVENTS.started, {
            run: this.snapshot(
              Object.assign(new OperationRun(), run, {
                status: 'running',
                statusBucket: 'running',
                finishedAt: null,
              }),
            ),
            attempt: known.attempts,
          }),
      });
      if (ended) return ended;
      const current = await this.findById(runId);
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
        set: ', succeeded = succeeded + ?, failed = failed + ?, skipped = skipped + ?, processed_items = processed_items + ?',
        setParams: [held.succeeded, held.failed, held.skipped, n],
        where: ' AND processed_items = ? AND failed = ? AND processed_items + ? <= total_items',
        whereParams: [known.processedItems, known.failed, n],
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
      const run = await this.findById(runId);
      if (!run || !isActive(run.status)) return run;
      const { status, failures } = decide(run);
      const ended = await this.endIf(run, status, failures);
      if (ended) return ended;
      // Its status changed under us (e.g. pending → running): decide again.
    }
    return this.findById(runId);
  }

  /**
   * The terminal write: status, bucket and failures in one statement (plus `extra` SET and WHERE
   * clauses), only if the run is still in the status it was read in; then the counters and run.finished.
   */
  private async endIf(
    run: OperationRun,
    status: RunStatus,
    failures: RunFailure[],
    extra: {
      set?: string;
      setParams?: unknown[];
      where?: string;
      whereParams?: unknown[];
      /** Called once the write matched, before run.finished is emitted. */
      beforeFinished?: (ended: OperationRun) => void;
    } = {},
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
    const { affected } = await exec(
      this.ds.manager,
      `UPDATE operation_runs SET status = ?, status_bucket = ?, finished_at = ?, updated_at = ?, active_key = NULL${
        merged ? ', failures = ?, failures_omitted = ?' : ''
      }${extra.set ?? ''} WHERE id = ? AND status = ?${extra.where ?? ''}`,
      [
        status,
        bucket,
        this.at(now),
        this.at(now),
        ...(merged ? [JSON.stringify(merged.failures), merged.omitted] : []),
        ...(extra.setParams ?? []),
        run.id,
        run.status,
        ...(extra.whereParams ?? []),
      ],
    );
    if (!affected) return null;
    this.counters.add(run, [
      ['queued', -1],
      [bucket, 1],
    ]);
    extra.beforeFinished?.(ended);
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
