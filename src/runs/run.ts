import type { ReasonCode, RunFailure } from './failure-sanitizer';
import { runType, RunStatus, StatusBucket } from './run-status';

/** One long-running action: what was asked, by whom, for which tenant, how far it got, what failed. */
export class OperationRun {
  id: number;
  tenantId: number;
  /** The initiator; null for system runs. */
  userId: number | null;
  resource: string;
  action: string;
  status: RunStatus;
  statusBucket: StatusBucket;
  totalItems: number;
  processedItems: number;
  succeeded: number;
  failed: number;
  skipped: number;
  itemIds: string[] | null;
  payload: Record<string, unknown> | null;
  failures: RunFailure[] | null;
  /** Failure entries left out past the 100 kept. */
  failuresOmitted: number;
  idempotencyKey: string | null;
  /** The idempotency key while the run is active (unique per tenant), null once it ended. */
  activeKey: string | null;
  /** What the run is about, in the producer's words (e.g. `backup_set:12`), for "runs of this thing". */
  subject: string | null;
  /** What the run acts on, for people (a backup set's name, a drift scope): its producer's `target`. */
  target: string | null;
  /** The reason its row shows and the reason filter matches (see topReason); null while nothing failed. */
  topReason: ReasonCode | null;
  /** Started to finished, written when it ends; null while active or if it never started. */
  durationMs: number | null;
  jobId: string | null;
  attempts: number;
  parentRunId: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
  /** While a transient failure is waited out: when the next attempt is due, and why it waits. */
  retryAt: Date | null;
  retryReason: ReasonCode | null;

  runType(): string {
    return runType(this.resource, this.action);
  }
}
