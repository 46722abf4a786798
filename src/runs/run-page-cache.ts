import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { BusCache, CacheBus } from '../queue';
import type { OperationRun } from './run';
import type { RunListFilter } from './runs.repository';

export interface RunPage {
  rows: readonly OperationRun[];
  /** There are rows beyond this page in the direction of travel. */
  hasMore: boolean;
}

const TOPIC = 'runs:pages';
/** Tenants whose pages a process keeps at once (past this, all are dropped and kept afresh). */
const MAX_TENANTS = 256;
/** Filter and sort combinations kept per tenant. */
const MAX_VARIANTS = 16;
/** The largest page kept (the API's limit); bigger reads (the CSV export's batches) always go to the database. */
const MAX_LIMIT = 100;

/**
 * The first pages of each tenant's run list (the Operations page, its polls and the runs API), kept
 * in each web process until a run of that tenant changes in any process: every lifecycle write of
 * RunsService and the pruning announce their tenants (`changed`) once they are stored, this process
 * at once and the others over the CacheBus within milliseconds. Repeat views of a tenant whose runs
 * stand still then cost no database read; a tenant whose runs move is read again after each step.
 *
 * Kept: a single tenant's pages with no cursor and no time bound (a "last 7 days" filter moves with
 * the clock). Served only while the bus is live (BusCache), and at most BACKSTOP seconds old. The rows
 * are frozen: every reader shares them.
 */
@Injectable()
export class RunPageCache {
  private readonly pages: BusCache<RunPage>;
  /** RUNS_PAGE_CACHE; the benchmark turns it off to measure the reads themselves. */
  enabled: boolean;

  constructor(
    private readonly bus: CacheBus,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.pages = new BusCache(bus, TOPIC, MAX_TENANTS, undefined, MAX_VARIANTS);
    this.enabled = config.runsPageCache;
  }

  /** The page `filter` names, kept or from `load`. */
  get(filter: RunListFilter, full: boolean, load: () => Promise<RunPage>): Promise<RunPage> {
    const kept =
      this.enabled &&
      filter.tenantIds === undefined &&
      !filter.cursor &&
      !filter.from &&
      !filter.to &&
      filter.limit <= MAX_LIMIT;
    if (!kept) return load();
    const detail = JSON.stringify([
      full,
      filter.type ?? null,
      filter.bucket ?? null,
      filter.reason ?? null,
      filter.initiator ?? null,
      filter.search ?? null,
      filter.searchText ?? null,
      filter.sort ?? null,
      filter.direction ?? null,
      filter.limit,
    ]);
    return this.pages.get(filter.tenantId, detail, async () => frozen(await load()));
  }

  /** Runs of these tenants were written (after the write is stored); 'all' after pruning. */
  changed(tenantIds: number[] | 'all'): void {
    this.bus.invalidateSoon(TOPIC, tenantIds);
  }
}

function frozen(page: RunPage): RunPage {
  for (const r of page.rows) Object.freeze(r);
  return Object.freeze({ rows: Object.freeze(page.rows), hasMore: page.hasMore });
}
