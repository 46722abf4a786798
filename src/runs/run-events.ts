import type { ReasonCode, RunFailure } from './failure-sanitizer';
import type { RunStatus, StatusBucket } from './run-status';

/** What other modules learn about a run when its lifecycle moves; a snapshot, never the live entity. */
export interface RunEventSnapshot {
  id: number;
  tenantId: number;
  userId: number | null;
  type: string;
  label: string;
  status: RunStatus;
  bucket: StatusBucket;
  totalItems: number;
  processedItems: number;
  succeeded: number;
  failed: number;
  skipped: number;
  /** The first run-level or item failure, for "failed: <reason>" notifications. */
  firstFailure: RunFailure | null;
  /**
   * The most frequent reason among the failures kept, with how many items it failed and one of its
   * messages: "Not found (4 items): …" rather than the first entry alone.
   */
  topReason: { reason_code: ReasonCode; label: string; count: number; sample: string } | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** Event name → payload. Listeners use @OnEvent(RUN_EVENTS.finished) with the matching payload type. */
export const RUN_EVENTS = {
  queued: 'run.queued',
  started: 'run.started',
  progress: 'run.progress',
  finished: 'run.finished',
  pruned: 'run.pruned',
  actioned: 'run.actioned',
  viewed: 'run.viewed',
} as const;

export interface RunEventMap {
  'run.queued': { run: RunEventSnapshot; reused: false };
  'run.started': { run: RunEventSnapshot; attempt: number };
  'run.progress': {
    run: Pick<RunEventSnapshot, 'id' | 'tenantId' | 'type'>;
    processed: number;
    total: number;
  };
  'run.finished': { run: RunEventSnapshot };
  /** Runs removed by retention; listeners drop what they keep about them (and anything older than `before`). */
  'run.pruned': { runIds: number[]; before: Date };
  /**
   * A signed-in user opened a run's page: what told them about the run (its notifications) is read.
   * Emitted and awaited before the page renders, so its bell count is already right.
   */
  'run.viewed': { runId: number; tenantId: number; userId: number };
  /** An operator acted on a run (cancel, retry); the audit log records it. Emitted and awaited. */
  'run.actioned': {
    run: RunEventSnapshot;
    userId: number | null;
    action: 'cancel' | 'retry';
    detail: string;
  };
}
