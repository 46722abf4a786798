import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import { once } from 'node:events';
import { csvLine, OperationRun, REASON_LABELS, RUN_STATE_LABELS, runState, type ReasonCode } from '../runs';

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
  batches: AsyncGenerator<OperationRun[]>,
  ctx: CsvRowContext,
): Promise<void> {
  const first = await batches.next();
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`);
  res.setHeader('Cache-Control', 'no-store');
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
  let closed = false;
  res.on('close', () => (closed = true));
  const write = async (text: string) => {
    if (!res.write(text) && !closed) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  try {
    await write(`${csvLine(header)}\r\n`);
    let batch = first;
    while (!batch.done && !closed) {
      const rows = batch.value;
      const names = await ctx.names(rows.map((r) => r.userId));
      const lines = rows.map((r) => {
        const state = runState(r.status, r.statusBucket);
        return csvLine([
          ...(ctx.tenant ? [ctx.tenant(r)] : []),
          r.id,
          r.runType(),
          ctx.label(r.runType()),
          RUN_STATE_LABELS[state],
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
      });
      await write(`${lines.join('\r\n')}\r\n`);
      batch = await batches.next();
    }
    res.end();
  } catch (e) {
    // The status line is gone already: cut the download short, so it cannot pass for a whole file.
    logger.error({ err: e }, 'CSV export failed midway');
    res.destroy();
  } finally {
    if (closed) await batches.return(undefined);
  }
}
