/**
 * The hub's public face: the one import path for producers and other modules. What is not exported
 * here is the hub's own business.
 */
export { RunsModule } from './runs.module';
export type { MigrationClass, ProducerDeclaration } from './producer-declaration';

// The producer's kit: its own tables, reading them, CSV
export { tableMigration } from '../database/module-migrations';
export { Db } from '../database/db';
export { csvLine } from '../common/csv';
export { IdPipe } from '../common/id.pipe';

// Writing a producer
export { RunProducer } from './producer';
export type {
  BatchResult,
  ContextLine,
  ItemName,
  ItemOutcome,
  ItemResult,
  ProducerRunContext,
  RelatedLink,
  RunHandler,
  RunLinkContext,
  RunTargetContext,
  RunTypeDefinition,
  StartRequest,
  Tx,
} from './producer';
export { RunsService } from './runs.service';
export { answerStart, RunStarter } from './start-response';
export type { PageStart } from './start-response';
export type { StartRunInput, StartRunResult } from './runs.service';
export { OperationRun } from './run';

// Statuses, failures, links, events
export {
  BUCKET_LABELS,
  BUCKETS,
  isActive,
  RUN_STATE_LABELS,
  RUN_STATUSES,
  runHref,
  runState,
  runType,
  splitRunType,
} from './run-status';
export type { RunState, RunStatus, StatusBucket } from './run-status';
export {
  PERMANENT_REASONS,
  REASON_CODES,
  REASON_LABELS,
  WAIT_LABELS,
  digestFailures,
} from './failure-sanitizer';
export type { ReasonCode, RunFailure } from './failure-sanitizer';
export { RUN_EVENTS } from './run-events';
export type { RunEventMap, RunEventSnapshot } from './run-events';

// Reading and acting on runs (Monitoring, the API)
export { COUNT_CAP, RunsQueryService } from './runs-query.service';
export type { DayCounts, RunPage, RunTotal } from './runs-query.service';
export { cursorAfter, RUN_SORT_KEYS } from './run-list';
export type { RunSort, RunSortKey } from './run-list';
export type { Cursor, RunListFilter } from './runs.repository';
export { RunActionsService, cancelDetail, describeSelection, retryOffer } from './run-actions.service';
export type { RetryOffer, RetryResult } from './run-actions.service';
export { RunStallService } from './run-stall.service';
export { RunTypeRegistry } from './run-types.registry';
export type { RegisteredRunType } from './run-types.registry';
