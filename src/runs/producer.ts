import { SetMetadata } from '@nestjs/common';
import type { Sql } from '../database/db';

export type ItemResult = 'succeeded' | 'failed' | 'skipped';

/** One item's outcome, as a producer reports it. */
export interface ItemOutcome {
  itemId: string;
  result: ItemResult;
  /**
   * For failed items, either the error (the hub classifies it into a reason code and sanitizes its
   * message) or an explicit `reasonCode` from the catalogue with a `message` of your own (sanitized too).
   */
  error?: unknown;
  reasonCode?: string;
  message?: string;
}

/**
 * A transaction, as a producer's `write` callback gets it: its rows commit with the run's counts.
 * Plain SQL (`query`, `exec`) plus what differs between MySQL and SQLite, so a producer needs no
 * dialect of its own.
 */
export interface Tx extends Sql {
  /**
   * One multi-row INSERT of plain objects (all with the keys of the first). With `ignoreDuplicates`,
   * rows whose unique key already exists are skipped — only those: a broken reference still fails.
   */
  insert(
    table: string,
    rows: Array<Record<string, unknown>>,
    opts?: { ignoreDuplicates?: boolean },
  ): Promise<void>;
  /** A Date as this database takes it as a parameter. */
  date(d: Date): Date | string;
}

/** What one batch of `eachBatch` hands back: its outcomes (or counts alone) and the rows to write. */
export interface BatchResult {
  outcomes?: ItemOutcome[];
  counts?: { succeeded?: number; failed?: number; skipped?: number };
  /** The producer's own writes for this batch, in the same transaction as the run's counts. */
  write?: (tx: Tx) => Promise<void>;
}

/**
 * What a producer's handler gets while its job runs. Outcomes are recorded through it, so counts,
 * failures and progress events stay consistent whatever the producer does.
 */
export interface ProducerRunContext {
  readonly id: number;
  readonly tenantId: number;
  /** The items the run was started with (empty for runs that learn their items while running). */
  readonly itemIds: string[];
  readonly payload: Record<string, unknown>;
  /**
   * Items already recorded by an earlier attempt of this run (its worker died, or a transient error
   * was retried). Handlers that walk their items in a stable order resume here; since outcomes and
   * the producer's writes commit together, nothing is done twice.
   */
  readonly alreadyProcessed: number;
  /**
   * Aborted when the run is cancelled by an operator or its worker is stopping: a long handler
   * checks it (or lets `eachBatch` do so) and stops at its next batch. Its `reason` says which.
   */
  readonly signal: AbortSignal;
  /** The number of items, for runs that learn it only while running (a sync, say). */
  setTotal(total: number): Promise<void>;
  /** Records a batch of outcomes; `write` runs in the same transaction as the counts. */
  record(outcomes: ItemOutcome[], write?: (tx: Tx) => Promise<void>): Promise<void>;
  /** Records outcomes by count alone (no per-item failure entry), with `write` as in record(). */
  recordCounts(
    counts: { succeeded?: number; failed?: number; skipped?: number },
    write?: (tx: Tx) => Promise<void>,
  ): Promise<void>;
  /**
   * Walks `items` from `alreadyProcessed` on in batches of `size`: stops when the run is cancelled or
   * the worker is stopping, and records each batch's outcomes with its writes in one transaction.
   */
  eachBatch<T>(items: readonly T[], size: number, fn: (batch: T[]) => Promise<BatchResult>): Promise<void>;
  /** The same over the run's own item ids. */
  eachBatch(size: number, fn: (batch: string[]) => Promise<BatchResult>): Promise<void>;
  /** True once an operator cancelled the run (asks the database). */
  isCancelled(): Promise<boolean>;
  /**
   * Whether the hub would retry this error if it left the handler (a transient provider fault, with
   * attempts left): a handler that reports per-item failures rethrows these instead, and the job
   * resumes after its last recorded batch.
   */
  isTransient(err: unknown): boolean;
}

/** What a run started from the Operations page's start menu is over, decided when it is started. */
export interface StartRequest {
  itemIds?: string[];
  totalItems?: number;
  payload?: Record<string, unknown>;
  /** While a run with this key is active in the tenant, starting again returns it. */
  idempotencyKey?: string | null;
  subject?: string | null;
}

/** A producer's job logic: runs inside a worker with a context that records outcomes on the run. */
export interface RunHandler {
  handle(ctx: ProducerRunContext): Promise<void>;
  /**
   * For types with a `start` entry: what a run started from the start menu is over (by default a run
   * with no items and no payload, which the handler fills as it goes).
   */
  prepare?(tenant: { id: number; slug: string }, userId: number): Promise<StartRequest>;
  /**
   * What the run's item ids name, for its failures on the detail page (a policy's name and page):
   * called with the ids of the failures shown (at most 100); an id left out is shown as it is.
   */
  itemNames?(run: RunLinkContext, itemIds: string[]): Promise<ItemName[]>;
}

export interface RelatedLink {
  label: string;
  href: string;
  description?: string;
}

/** An item of a run in words: its name, and its page where it has one. */
export interface ItemName {
  itemId: string;
  name: string;
  href?: string;
}

/** A readable line of the run's producer context on the detail page. */
export interface ContextLine {
  label: string;
  value: string;
  href?: string;
}

/** What the hub hands to a producer's callbacks: the run's tenant slug for building links, and its fields. */
export interface RunLinkContext {
  id: number;
  /** Set where a producer reads the tenant's records (itemNames); links need only the slug. */
  tenantId?: number;
  tenantSlug: string;
  payload: Record<string, unknown>;
  status: string;
  itemIds: string[] | null;
}

/** What a run is started with, for its producer's `target`: the run has no id yet. */
export interface RunTargetContext {
  tenantId: number;
  payload: Record<string, unknown>;
  subject: string | null;
  itemIds: string[] | null;
}

export interface RunTypeDefinition {
  /** resource.action in snake_case, e.g. "drift.generate"; a duplicate stops boot. */
  type: string;
  /** Shown in lists, filters and notifications, e.g. "Drift generation". */
  label: string;
  /**
   * The Bull queue its jobs go to. Optional: by default the queue its module declared with
   * `RunsModule.forProducer({ queue })`; naming another stops boot.
   */
  queue?: string;
  /** Links for the run detail's Related section. */
  related?(run: RunLinkContext): RelatedLink[] | Promise<RelatedLink[]>;
  /** The payload in words for the detail page; defaults to its keys and values. */
  describe?(run: RunLinkContext): ContextLine[] | Promise<ContextLine[]>;
  /**
   * What the run acts on, in a few words (a backup set's name, a drift scope): the Operations list's
   * Target column and what its search finds by name. Asked once, when the run starts, and kept with it
   * (one line, at most 191 characters); null or absent shows "—".
   */
  target?(run: RunTargetContext): string | null | undefined | Promise<string | null | undefined>;
  /** Jobs of this type processed at once per worker; defaults to QUEUE_CONCURRENCY. */
  concurrency?: number;
  /**
   * Offers the type in the Operations page's start menu (for roles that may start runs), served by
   * the hub's own start route: the producer needs no start route of its own.
   */
  start?: { label: string; description?: string };
}

export const RUN_PRODUCER = Symbol('RUN_PRODUCER');

/**
 * Marks a provider as the handler of a run type. The hub finds it at boot, so a producer module
 * plugs in by declaring the provider — nothing in src/runs changes.
 */
export const RunProducer = (definition: RunTypeDefinition) => SetMetadata(RUN_PRODUCER, definition);
