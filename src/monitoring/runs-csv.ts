import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import { streamCsv } from '../common/table-params';
import { OperationRun, REASON_LABELS, RUN_STATE_LABELS, runState, type ReasonCode } from '../runs';

const logger = new Logger('RunsCsv');

export interface CsvRowContext {
  label(type: string): string;
  names(userIds: Array<number | null>): Promise<Map<number, string>>;
  /** The run's page, absolute from the site root. */
  href(run: OperationRun): string;
  /** The tenant column of the All tenants export; absent for one tenant's. */
  tenant?(run: OperationRun): string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : '');

/**
 * Writes the runs of `batches` (a keyset walk, a batch at a time) as CSV: the response holds one
 * batch at a time in memory whatever the list's size, waits for the client to take each one, and
 * stops when the client goes away. Headers go out with the first batch, so a filter or database
 * error before it is still an ordinary error page.
 */
export async function writeRunsCsv(
  res: Response,
  filename: string,
  batches: AsyncGenerator<readonly OperationRun[]>,
  ctx: CsvRowContext,
): Promise<void> {
  const header = [
    ...(ctx.tenant ? ['tenant'] : []),
    'id',
    'type',
    'label',
    'state',
    'status',
    'target',
    'failure_reason',
    'initiator',
    'created_at',
    'started_at',
    'finished_at',
    'duration_ms',
    'total_items',
    'processed_items',
    'succeeded',
    'failed',
    'skipped',
    'url',
  ];
  await streamCsv(res, filename, header, cellsOf(batches, ctx), (e) =>
    // The status line is gone already: the download is cut short, so it cannot pass for a whole file.
    logger.error({ err: e }, 'CSV export failed midway'),
  );
}

/** Each batch of runs as CSV cells, its initiators' names read once per batch. */
async function* cellsOf(
  batches: AsyncGenerator<readonly OperationRun[]>,
  ctx: CsvRowContext,
): AsyncGenerator<unknown[][]> {
  try {
    for await (const rows of batches) {
      const names = await ctx.names(rows.map((r) => r.userId));
      yield rows.map((r) => [
        ...(ctx.tenant ? [ctx.tenant(r)] : []),
        r.id,
        r.runType(),
        ctx.label(r.runType()),
        RUN_STATE_LABELS[runState(r.status, r.statusBucket)],
        r.status,
        r.target,
        r.topReason ? (REASON_LABELS[r.topReason as ReasonCode] ?? r.topReason) : '',
        r.userId === null ? 'System' : (names.get(r.userId) ?? `user #${r.userId}`),
        iso(r.createdAt),
        iso(r.startedAt),
        iso(r.finishedAt),
        r.durationMs,
        r.totalItems,
        r.processedItems,
        r.succeeded,
        r.failed,
        r.skipped,
        ctx.href(r),
      ]);
    }
  } finally {
    await batches.return(undefined);
  }
}
