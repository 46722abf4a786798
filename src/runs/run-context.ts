import { EntityManager } from 'typeorm';
import { RunFailure, toFailure } from './failure-sanitizer';
import type { OperationRun } from './run.entity';
import type { RunsService } from './runs.service';

export type ItemResult = 'succeeded' | 'failed' | 'skipped';

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
export class RunContext {
  constructor(
    readonly run: OperationRun,
    private readonly runs: RunsService,
    /** 1 for the first try; higher when a job is retried or picked up after its worker died. */
    readonly attempt: number,
  ) {}

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

  /**
   * Items already recorded by an earlier attempt. Producers that walk itemIds in order resume here;
   * because outcomes and the producer's writes commit together, nothing is done twice.
   */
  get alreadyProcessed(): number {
    return this.run.processedItems;
  }

  /** For producers that learn the item count only while running (e.g. a sync). */
  async setTotal(total: number): Promise<void> {
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
   * the run from them (checking them against the table) without reading it again.
   */
  private async apply(
    delta: { succeeded: number; failed: number; skipped: number },
    failures: RunFailure[],
    work?: (em: EntityManager) => Promise<void>,
  ): Promise<void> {
    const run = this.run;
    await this.runs.recordItems(run.id, delta, failures, work, {
      tenantId: run.tenantId,
      type: run.runType(),
      processedBefore: run.processedItems,
      total: run.totalItems,
    });
    run.succeeded += delta.succeeded;
    run.failed += delta.failed;
    run.skipped += delta.skipped;
    run.processedItems += delta.succeeded + delta.failed + delta.skipped;
  }

  /** True once an operator cancelled the run; long handlers check it between batches. */
  isCancelled(): Promise<boolean> {
    return this.runs.isCancelled(this.run.id);
  }
}
