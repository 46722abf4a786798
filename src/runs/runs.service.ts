import { getQueueToken } from '@nestjs/bull';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { EntityManager, In, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AppError } from '../common/app-error';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { insertIgnore, isUniqueViolation } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { appendFailures, RunFailure, toFailure } from './failure-sanitizer';
import { RUN_EVENTS, RunEventMap, RunEventSnapshot } from './run-events';
import { applyRollup, transition } from './run-rollup';
import { finalStatus, isActive, RunStatus, splitRunType, statusBucket } from './run-status';
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

const ENQUEUE_FAILED_MESSAGE = 'The job queue was unreachable, so the run could not be queued.';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The lifecycle of operation runs and the only writer of the runs table: start (or reuse), mark
 * running, record item outcomes, finish, fail. Every status write sets status_bucket and moves the
 * daily counters in the same transaction, and emits a typed run.* event for other modules.
 */
@Injectable()
export class RunsService {
  private readonly logger = new Logger('Runs');

  constructor(
    @InjectRepository(OperationRun) private readonly repo: Repository<OperationRun>,
    private readonly tx: TransactionRunner,
    private readonly registry: RunTypeRegistry,
    private readonly events: EventEmitter2,
    private readonly moduleRef: ModuleRef,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // ── reads ──────────────────────────────────────────────────────────────────

  /** A run of this tenant, or not-found: another tenant's run id is indistinguishable from none. */
  async getForTenant(tenantId: number, id: number): Promise<OperationRun> {
    const run = await this.repo.findOne({ where: { id, tenantId } });
    if (!run) throw AppError.notFound('Run');
    return run;
  }

  findById(id: number): Promise<OperationRun | null> {
    return this.repo.findOne({ where: { id } });
  }

  async isCancelled(id: number): Promise<boolean> {
    const run = await this.repo.findOne({ where: { id }, select: { id: true, status: true } });
    return !run || run.status === 'aborted';
  }

  /** Active runs whose payload matched a producer-defined key, e.g. to show "already running". */
  findActiveByKey(tenantId: number, idempotencyKey: string): Promise<OperationRun | null> {
    return this.repo.findOne({ where: { tenantId, activeKey: idempotencyKey } });
  }

  /** Every failed item id of a run, in no particular order. */
  async failedItemIds(runId: number): Promise<string[]> {
    const rows: Array<{ item_id: string }> = await this.repo.query(
      'SELECT item_id FROM run_failed_items WHERE run_id = ?',
      [runId],
    );
    return rows.map((r) => r.item_id);
  }

  listByIds(tenantId: number, ids: number[]): Promise<OperationRun[]> {
    return ids.length ? this.repo.find({ where: { tenantId, id: In(ids) } }) : Promise.resolve([]);
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

    this.emit(RUN_EVENTS.queued, { run: this.snapshot(run), reused: false });
    await this.enqueue(run, def.queue);
    return { run, reused: false };
  }

  private async insertPending(input: StartRunInput, key: string | null): Promise<OperationRun> {
    const { resource, action } = splitRunType(input.type);
    const now = new Date();
    const itemIds = input.itemIds ?? null;
    const values: Partial<OperationRun> = {
      tenantId: input.tenantId,
      userId: input.userId,
      resource,
      action,
      status: 'pending',
      statusBucket: 'queued',
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
    };
    return this.tx.run(async (em) => {
      const result = await em.insert(OperationRun, values as QueryDeepPartialEntity<OperationRun>);
      const id = Number(result.identifiers[0].id);
      await applyRollup(em, this.tx.isMysql, { tenantId: input.tenantId, createdAt: now, resource, action }, [
        ['queued', 1],
      ]);
      return Object.assign(new OperationRun(), values, { id });
    });
  }

  /**
   * Puts the job on the producer's queue. If Redis does not take it in time the run is failed with
   * queue_unavailable and the caller gets a clear error: no run is left pending without a job. A job
   * that still lands later finds its run terminal and is dropped.
   */
  async enqueue(run: OperationRun, queueName: string): Promise<void> {
    const queue = this.queue(queueName);
    const data: JobData = { runId: run.id, tenantId: run.tenantId };
    try {
      await withTimeout(
        queue.add(run.runType(), data, { jobId: jobIdFor(run.id) }),
        this.config.queue.enqueueTimeoutMs,
        'enqueue',
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

  // ── worker side ────────────────────────────────────────────────────────────

  /**
   * Called when a worker picks the job up. Returns null when the run already ended (cancelled, or
   * failed because its enqueue timed out) so the job is dropped.
   */
  async markRunning(runId: number, jobId: string, attempt: number): Promise<OperationRun | null> {
    const run = await this.findById(runId);
    if (!run || !isActive(run.status)) return null;
    const now = new Date();
    const moved = await this.tx.run(async (em) => {
      const res = await this.updateRun(em, runId, ['pending', 'running'], {
        status: 'running',
        statusBucket: 'running',
        startedAt: run.startedAt ?? now,
        attempts: attempt,
        jobId,
        updatedAt: now,
      });
      if (res && run.status === 'pending') {
        await applyRollup(em, this.tx.isMysql, run, transition('queued', 'running'));
      }
      return res;
    });
    if (!moved) return null;
    Object.assign(run, {
      status: 'running',
      statusBucket: 'running',
      startedAt: run.startedAt ?? now,
      attempts: attempt,
      jobId,
    });
    this.emit(RUN_EVENTS.started, { run: this.snapshot(run), attempt });
    return run;
  }

  async setTotal(runId: number, total: number): Promise<void> {
    if (!Number.isInteger(total) || total < 0)
      throw new Error(`total must be a non-negative integer, got ${total}`);
    const res = await this.repo
      .createQueryBuilder()
      .update(OperationRun)
      .set({ totalItems: total, updatedAt: new Date() })
      .where('id = :id AND processed_items <= :total', { id: runId, total })
      .execute();
    if (!res.affected) throw new Error(`Run ${runId}: total ${total} is below the items already processed`);
  }

  /**
   * Adds item outcomes in one atomic UPDATE whose WHERE keeps processed ≤ total and the run running,
   * so concurrent recorders can never break the counts. The producer's own writes (`work`) commit in
   * the same transaction.
   */
  async recordItems(
    runId: number,
    delta: { succeeded: number; failed: number; skipped: number },
    failures: RunFailure[],
    work?: (em: EntityManager) => Promise<void>,
  ): Promise<void> {
    const n = delta.succeeded + delta.failed + delta.skipped;
    for (const v of [delta.succeeded, delta.failed, delta.skipped]) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`item counts must be non-negative integers`);
    }
    if (n === 0 && !work) return;
    let progress: { processed: number; total: number; tenantId: number; type: string } | null = null;
    await this.tx.run(async (em) => {
      if (work) await work(em);
      if (n === 0) return;
      const res = await em
        .createQueryBuilder()
        .update(OperationRun)
        .set({
          succeeded: () => `succeeded + ${delta.succeeded}`,
          failed: () => `failed + ${delta.failed}`,
          skipped: () => `skipped + ${delta.skipped}`,
          processedItems: () => `processed_items + ${n}`,
          updatedAt: new Date(),
        })
        .where("id = :id AND status = 'running' AND processed_items + :n <= total_items", { id: runId, n })
        .execute();
      const lock = this.tx.isMysql ? ({ mode: 'pessimistic_write' } as const) : undefined;
      const after = await em.findOne(OperationRun, {
        where: { id: runId },
        select: {
          id: true,
          tenantId: true,
          resource: true,
          action: true,
          status: true,
          processedItems: true,
          totalItems: true,
          failures: true,
          failuresOmitted: true,
        },
        lock,
      });
      if (!res.affected) {
        if (!after || after.status !== 'running') throw new RunNoLongerActive(runId);
        throw new Error(
          `Run ${runId}: recording ${n} more items would exceed total_items (${after.processedItems}/${after.totalItems})`,
        );
      }
      const failedIds = failures.map((f) => f.item_id).filter((id): id is string => id !== null);
      if (failedIds.length) {
        await insertIgnore(
          em,
          this.tx.isMysql,
          'run_failed_items',
          ['run_id', 'item_id'],
          failedIds.map((id) => [runId, id.slice(0, 191)]),
        );
      }
      if (failures.length && after) {
        const merged = appendFailures(after.failures ?? [], after.failuresOmitted, failures);
        await em.update(OperationRun, { id: runId }, {
          failures: merged.failures,
          failuresOmitted: merged.omitted,
        } as QueryDeepPartialEntity<OperationRun>);
      }
      if (after) {
        progress = {
          processed: after.processedItems,
          total: after.totalItems,
          tenantId: after.tenantId,
          type: after.runType(),
        };
      }
    });
    const p = progress as { processed: number; total: number; tenantId: number; type: string } | null;
    if (p) {
      this.emit(RUN_EVENTS.progress, {
        run: { id: runId, tenantId: p.tenantId, type: p.type },
        processed: p.processed,
        total: p.total,
      });
    }
  }

  /** Ends a run from its counts: completed, completed_with_errors or failed. */
  async finish(runId: number): Promise<OperationRun | null> {
    return this.end(runId, (run) => {
      const status = finalStatus(run);
      return { status, failures: [] };
    });
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
      const bucket = statusBucket(status, run.failed);
      const merged = appendFailures(run.failures ?? [], run.failuresOmitted, failures);
      const now = new Date();
      const changes: Partial<OperationRun> = {
        status,
        statusBucket: bucket,
        finishedAt: now,
        updatedAt: now,
        activeKey: null,
        failures: merged.failures,
        failuresOmitted: merged.omitted,
      };
      const moved = await this.tx.run(async (em) => {
        const ok = await this.updateRun(em, runId, [run.status], changes);
        if (ok) await applyRollup(em, this.tx.isMysql, run, transition(run.statusBucket, bucket));
        return ok;
      });
      if (!moved) continue; // its status changed under us (e.g. pending → running): decide again
      Object.assign(run, changes);
      this.emit(RUN_EVENTS.finished, { run: this.snapshot(run) });
      return run;
    }
    return this.findById(runId);
  }

  /** A conditional UPDATE: only applies while the run is in one of `from`; true when it did. */
  private async updateRun(
    em: EntityManager,
    runId: number,
    from: RunStatus[],
    values: Partial<OperationRun>,
  ): Promise<boolean> {
    const res = await em
      .createQueryBuilder()
      .update(OperationRun)
      .set(values as QueryDeepPartialEntity<OperationRun>)
      .where('id = :id AND status IN (:...from)', { id: runId, from })
      .execute();
    return (res.affected ?? 0) > 0;
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

  private emit<K extends keyof RunEventMap>(name: K, payload: RunEventMap[K]): void {
    try {
      this.events.emit(name, payload);
    } catch (e) {
      // A listener's bug must never undo a lifecycle step that already committed.
      this.logger.error({ err: e, event: name }, 'run event listener failed');
    }
  }
}
