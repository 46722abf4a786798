import { EntityManager } from 'typeorm';
import { ReasonCode, RunFailure, toFailure, TRANSIENT_REASONS } from './failure-sanitizer';
import type { OperationRun } from './run.entity';
import type { RunsService } from './runs.service';

export type ItemResult = 'succeeded' | 'failed' | 'skipped';

export interface Counts {
  succeeded: number;
  failed: number;
  skipped: number;
}

/**
 * How long a fresh run's start and counts-only outcomes (no failure entry, no rows of the producer's)
 * may wait before they are written. They are progress, nothing else depends on them, so holding them
 * briefly lets them travel with the next write, often the finishing one, instead of costing statements
 * of their own.
 */
const HOLD_MS = 200;

export interface ItemOutcome {
  itemId: string;
  result: ItemResult;
  /** For failed items: the error (classified and sanitized here) or an explicit reason code + message. */
  error?: unknown;
  reasonCode?: string;
  message?: string;
}

/**
 * What a producer's handler gets while its job runs. Outcomes are recorded through it, so counts,
 * failures and progress events stay consistent whatever the producer does.
 */
/** Thrown out of a context's writes once its worker is stopping: the job is handed back, not failed. */
export class WorkerStopping extends Error {
  constructor() {
    super('The worker is shutting down; the job goes back to the queue');
  }
}

export class RunContext {
  private held: Counts = { succeeded: 0, failed: 0, skipped: 0 };
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
    readonly attempt: number,
    /** How many attempts the job has in all (JOB_ATTEMPTS). */
    readonly attemptsAllowed: number,
  ) {
    // A fresh run's start is not written yet (RunsService.claimFresh): it is, before this context
    // writes anything else, or after HOLD_MS so that a longer run shows as running; a run done sooner
    // starts and finishes in one write.
    if (run.status === 'pending') this.defer();
  }

  get id(): number {
    return this.run.id;
  }

  /** Aborted when the worker stops (or the run is cancelled): long handlers stop at their next batch. */
  get signal(): AbortSignal {
    return this.abort.signal;
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

  get tenantId(): number {
    return this.run.tenantId;
  }

  get payload(): Record<string, unknown> {
    return this.run.payload ?? {};
  }

  get itemIds(): string[] {
    return this.run.itemIds ?? [];
  }

  /**
   * Items already recorded by an earlier attempt. Producers that walk itemIds in order resume here;
   * because outcomes and the producer's writes commit together, nothing is done twice.
   */
  get alreadyProcessed(): number {
    return this.run.processedItems + total(this.held);
  }

  /** For producers that learn the item count only while running (e.g. a sync). */
  async setTotal(total: number): Promise<void> {
    await this.flushHeld();
    await this.runs.setTotal(this.run.id, total);
    this.run.totalItems = total;
  }

  /**
   * Records a batch of item outcomes. `work` runs in the same transaction as the counter update, so
   * a producer's own rows (captured items, findings) and the run's counts never disagree.
   */
  async record(outcomes: ItemOutcome[], work?: (em: EntityManager) => Promise<void>): Promise<void> {
    const failures: RunFailure[] = outcomes
      .filter((o) => o.result === 'failed')
      .map((o) =>
        toFailure({ itemId: o.itemId, error: o.error, reasonCode: o.reasonCode, message: o.message }),
      );
    const count = (r: ItemResult) => outcomes.filter((o) => o.result === r).length;
    await this.apply(
      { succeeded: count('succeeded'), failed: count('failed'), skipped: count('skipped') },
      failures,
      work,
    );
  }

  /**
   * Records outcomes by count alone, for producers whose items need no per-item failure entry (a
   * comparison of 50,000 policies, say). `work` commits with the counts, as in record().
   */
  async recordCounts(
    counts: { succeeded?: number; failed?: number; skipped?: number },
    work?: (em: EntityManager) => Promise<void>,
  ): Promise<void> {
    await this.apply(
      { succeeded: counts.succeeded ?? 0, failed: counts.failed ?? 0, skipped: counts.skipped ?? 0 },
      [],
      work,
    );
  }

  /**
   * Records through the hub and keeps this context's copy of the counts current: the hub finishes
   * the run from them (checking them against the table) without reading it again. Counts-only
   * outcomes are held for up to HOLD_MS (see there); anything else writes them first.
   */
  private async apply(
    delta: Counts,
    failures: RunFailure[],
    work?: (em: EntityManager) => Promise<void>,
  ): Promise<void> {
    this.rethrowHeldError();
    if (this.abort.signal.aborted) throw this.abort.signal.reason;
    if (!work && !failures.length) {
      this.held = {
        succeeded: this.held.succeeded + delta.succeeded,
        failed: this.held.failed + delta.failed,
        skipped: this.held.skipped + delta.skipped,
      };
      this.defer();
      return;
    }
    await this.flushHeld();
    await this.write(delta, failures, work);
  }

  /** Writes the start if it is still deferred, then the held counts. */
  async flushHeld(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const held = this.held;
    this.held = { succeeded: 0, failed: 0, skipped: 0 };
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
    this.held = { succeeded: 0, failed: 0, skipped: 0 };
    return held;
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
    work?: (em: EntityManager) => Promise<void>,
  ): Promise<void> {
    if (this.fenced) throw new WorkerStopping();
    await this.started();
    if (this.fenced) throw new WorkerStopping();
    const run = this.run;
    const writing = this.runs.recordItems(run.id, delta, failures, work, {
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
  }

  /**
   * Whether an error of this reason, thrown out of the handler, makes the job try again (resuming at
   * alreadyProcessed) rather than fail the run: transient reasons while attempts are left.
   */
  willRetry(reason: ReasonCode): boolean {
    return TRANSIENT_REASONS.has(reason) && this.attempt < this.attemptsAllowed;
  }

  /** True once an operator cancelled the run; long handlers check it between batches. */
  isCancelled(): Promise<boolean> {
    return this.runs.isCancelled(this.run.id);
  }
}

function total(c: Counts): number {
  return c.succeeded + c.failed + c.skipped;
}
