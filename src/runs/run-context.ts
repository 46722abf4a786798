import { chunks } from '../database/sql';
import { appendFailures, classifyError, RunFailure, toFailure, TRANSIENT_REASONS } from './failure-sanitizer';
import type { BatchResult, ItemOutcome, ItemResult, ProducerRunContext, Tx } from './producer';
import type { OperationRun } from './run';
import type { Counts } from './runs.repository';
import { RunNoLongerActive, type RunsService } from './runs.service';

/**
 * How long a fresh run's start and counts-only outcomes (no failure entry, no rows of the producer's)
 * may wait before they are written. They are progress, nothing else depends on them, so holding them
 * briefly lets them travel with the next write, often the finishing one, instead of costing statements
 * of their own.
 */
const HOLD_MS = 200;

/** Thrown out of a context's writes once its worker is stopping: the job is handed back, not failed. */
export class WorkerStopping extends Error {
  constructor() {
    super('The worker is shutting down; the job goes back to the queue');
  }
}

const ZERO: Counts = { succeeded: 0, failed: 0, skipped: 0 };

/**
 * The hub's side of a producer's context: what it records goes through RunsService, and it keeps its
 * own copy of the counts so the executor can finish the run without reading it again. The executor
 * alone uses the methods beyond ProducerRunContext (holding, fencing, stopping).
 */
export class RunContext implements ProducerRunContext {
  private held: Counts = { ...ZERO };
  private readonly abort = new AbortController();
  /** Set when the job was handed back: nothing this context still has in flight may be written. */
  private fenced = false;
  private inFlight: Promise<unknown> = Promise.resolve();
  /** Set while a deferred write (a fresh run's start, held counts) is due. */
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private heldError: unknown;
  private starting: Promise<void> | undefined;

  constructor(
    readonly run: OperationRun,
    private readonly runs: RunsService,
    /** 1 for the first try; higher when a job is retried or picked up after its worker died. */
    private readonly attempt: number,
    /** How many attempts the job has in all (JOB_ATTEMPTS). */
    private readonly attemptsAllowed: number,
  ) {
    // A fresh run's start is not written yet (RunsService.claimFresh): it is, before this context
    // writes anything else, or after HOLD_MS so that a longer run shows as running; a run done sooner
    // starts and finishes in one write.
    if (run.status === 'pending') this.defer();
  }

  get id(): number {
    return this.run.id;
  }

  get tenantId(): number {
    return this.run.tenantId;
  }

  get payload(): Record<string, unknown> {
    return this.run.payload ?? {};
  }

  get itemIds(): string[] {
    return this.run.itemIds ?? [];
  }

  get alreadyProcessed(): number {
    return this.run.processedItems + total(this.held);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  async setTotal(totalItems: number): Promise<void> {
    await this.flushHeld();
    await this.runs.setTotal(this.run.id, totalItems, this.run.tenantId);
    this.run.totalItems = totalItems;
  }

  async record(outcomes: ItemOutcome[], write?: (tx: Tx) => Promise<void>): Promise<void> {
    const failures: RunFailure[] = outcomes
      .filter((o) => o.result === 'failed')
      .map((o) =>
        toFailure({ itemId: o.itemId, error: o.error, reasonCode: o.reasonCode, message: o.message }),
      );
    const count = (r: ItemResult) => outcomes.filter((o) => o.result === r).length;
    await this.apply(
      { succeeded: count('succeeded'), failed: count('failed'), skipped: count('skipped') },
      failures,
      write,
    );
  }

  async recordCounts(
    counts: { succeeded?: number; failed?: number; skipped?: number },
    write?: (tx: Tx) => Promise<void>,
  ): Promise<void> {
    await this.apply(
      { succeeded: counts.succeeded ?? 0, failed: counts.failed ?? 0, skipped: counts.skipped ?? 0 },
      [],
      write,
    );
  }

  eachBatch<T>(items: readonly T[], size: number, fn: (batch: T[]) => Promise<BatchResult>): Promise<void>;
  eachBatch(size: number, fn: (batch: string[]) => Promise<BatchResult>): Promise<void>;
  async eachBatch<T>(
    itemsOrSize: readonly T[] | number,
    sizeOrFn: number | ((batch: string[]) => Promise<BatchResult>),
    maybeFn?: (batch: T[]) => Promise<BatchResult>,
  ): Promise<void> {
    const [items, size, fn] =
      typeof itemsOrSize === 'number'
        ? [
            this.itemIds as unknown as readonly T[],
            itemsOrSize,
            sizeOrFn as unknown as (batch: T[]) => Promise<BatchResult>,
          ]
        : [itemsOrSize, sizeOrFn as number, maybeFn!];
    for (const batch of chunks(items.slice(this.alreadyProcessed), size)) {
      if (this.signal.aborted) throw this.signal.reason;
      const result = await fn(batch);
      if (result.outcomes) await this.record(result.outcomes, result.write);
      else await this.recordCounts(result.counts ?? { succeeded: batch.length }, result.write);
    }
  }

  async isCancelled(): Promise<boolean> {
    return this.runs.isCancelled(this.run.id);
  }

  isTransient(err: unknown): boolean {
    return TRANSIENT_REASONS.has(classifyError(err)) && this.attempt < this.attemptsAllowed;
  }

  // ── the executor's side ────────────────────────────────────────────────────

  /** The run was cancelled (the executor noticed): handlers see it on `signal` and stop. */
  cancelled(): void {
    if (!this.abort.signal.aborted) this.abort.abort(new RunNoLongerActive(this.run.id));
  }

  /** The worker is stopping: the next write refuses, so the handler stops at a batch boundary. */
  stop(): void {
    if (!this.abort.signal.aborted) this.abort.abort(new WorkerStopping());
  }

  /**
   * No write may start any more, and the one in flight is waited for (up to `ms`): after this the job
   * can be handed to another worker without two of them writing the same run.
   */
  async fence(ms: number): Promise<void> {
    this.stop();
    this.fenced = true;
    await Promise.race([this.inFlight.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);
  }

  /** Writes the start if it is still deferred, then the held counts. */
  async flushHeld(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const held = this.held;
    this.held = { ...ZERO };
    await this.started();
    if (total(held)) await this.write(held, []);
  }

  /**
   * Hands the held counts to the finishing write (the executor's) once any write this context has
   * in flight is done, rethrowing a failed one. A start still deferred is left to that write too.
   */
  async takeHeld(): Promise<Counts> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.starting;
    await this.flushing;
    this.rethrowHeldError();
    const held = this.held;
    this.held = { ...ZERO };
    return held;
  }

  /**
   * Records through the hub. Counts-only outcomes are held for up to HOLD_MS (see there); anything
   * else writes them first.
   */
  private async apply(
    delta: Counts,
    failures: RunFailure[],
    write?: (tx: Tx) => Promise<void>,
  ): Promise<void> {
    this.rethrowHeldError();
    if (this.abort.signal.aborted) throw this.abort.signal.reason;
    if (!write && !failures.length) {
      this.held = {
        succeeded: this.held.succeeded + delta.succeeded,
        failed: this.held.failed + delta.failed,
        skipped: this.held.skipped + delta.skipped,
      };
      this.defer();
      return;
    }
    await this.flushHeld();
    await this.write(delta, failures, write);
  }

  /** Writes what is deferred (flushHeld) within HOLD_MS, unless something writes it sooner. */
  private defer(): void {
    this.timer ??= setTimeout(() => {
      this.flushing = this.flushHeld().catch((e) => {
        this.heldError ??= e;
      });
    }, HOLD_MS);
  }

  /** The deferred start, written once (see the constructor). */
  private started(): Promise<void> {
    if (this.starting) return this.starting;
    if (this.run.status !== 'pending') return Promise.resolve();
    this.starting = this.runs.writeStart(this.run);
    this.inFlight = this.starting;
    return this.starting;
  }

  private rethrowHeldError(): void {
    if (this.heldError === undefined) return;
    const e = this.heldError;
    this.heldError = undefined;
    throw e;
  }

  private async write(
    delta: Counts,
    failures: RunFailure[],
    write?: (tx: Tx) => Promise<void>,
  ): Promise<void> {
    if (this.fenced) throw new WorkerStopping();
    await this.started();
    if (this.fenced) throw new WorkerStopping();
    const run = this.run;
    const writing = this.runs.recordItems(run.id, delta, failures, write, {
      tenantId: run.tenantId,
      type: run.runType(),
      processedBefore: run.processedItems,
      total: run.totalItems,
    });
    this.inFlight = writing;
    await writing;
    run.succeeded += delta.succeeded;
    run.failed += delta.failed;
    run.skipped += delta.skipped;
    run.processedItems += total(delta);
    if (failures.length) {
      // Kept as the table keeps them, so the finishing write's run.finished names their reasons.
      const merged = appendFailures(run.failures ?? [], run.failuresOmitted, failures);
      run.failures = merged.failures;
      run.failuresOmitted = merged.omitted;
    }
  }
}

function total(c: Counts): number {
  return c.succeeded + c.failed + c.skipped;
}
