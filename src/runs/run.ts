import type { RunFailure } from './failure-sanitizer';
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
  jobId: string | null;
  attempts: number;
  parentRunId: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;

  runType(): string {
    return runType(this.resource, this.action);
  }
}
