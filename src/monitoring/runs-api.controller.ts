import { Controller, Get, Header, Param, Query, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Can, Ids, type AuthedRequest } from '../auth';
import { AppError } from '../common/app-error';
import { IdPipe } from '../common/id.pipe';
import {
  BUCKETS,
  cursorAfter,
  REASON_CODES,
  RUN_SORT_KEYS,
  RunsQueryService,
  RunTypeRegistry,
  type RunPage,
} from '../runs';
import { encodeCursor, parseRunFilters } from './run-filters';
import { listFilterOf } from './run-table';
import { runJson } from './run-view';

/** Runs as JSON for scripts and dashboards: a Bearer personal API token or the browser session. */
@ApiTags('runs')
@ApiBearerAuth()
@Controller('api/v1/tenants/:tenant/runs')
export class RunsApiController {
  /**
   * A page's runs as JSON, by page: a page kept by the run page cache is shared by every request
   * until its tenant's runs change, and so is its text (written once, not per request).
   */
  private readonly written = new WeakMap<RunPage, { slug: string; json: string }>();

  constructor(
    private readonly query: RunsQueryService,
    private readonly registry: RunTypeRegistry,
  ) {}

  @Get()
  @Can('read', 'Run')
  @ApiOperation({ summary: "List a tenant's runs, newest first (or by another sort), keyset-paged" })
  @ApiParam({ name: 'tenant', description: 'tenant slug' })
  @ApiQuery({ name: 'type', required: false, description: 'run type, e.g. drift.generate' })
  @ApiQuery({ name: 'status', required: false, enum: BUCKETS, description: 'status bucket' })
  @ApiQuery({
    name: 'from',
    required: false,
    description: 'created at or after (ISO date or date-time, UTC)',
  })
  @ApiQuery({
    name: 'to',
    required: false,
    description: 'created before (a date-only value includes that day)',
  })
  @ApiQuery({ name: 'preset', required: false, enum: ['24h', '7d', '30d'] })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1–100, default 25' })
  @ApiQuery({
    name: 'reason',
    required: false,
    enum: REASON_CODES,
    description: 'the failure reason a run shows',
  })
  @ApiQuery({
    name: 'initiator',
    required: false,
    description: '"me" (runs the caller started), "system" (nobody did) or a user id',
  })
  @ApiQuery({ name: 'q', required: false, description: 'a run id, or the start of a target name' })
  @ApiQuery({ name: 'sort', required: false, enum: RUN_SORT_KEYS, description: 'default created' })
  @ApiQuery({ name: 'order', required: false, enum: ['desc', 'asc'], description: 'default desc' })
  @ApiOkResponse({ description: '{ "data": [run], "next_cursor": string|null }' })
  @ApiResponse({ status: 400, description: 'a filter value is invalid; the message says which' })
  @ApiResponse({ status: 401, description: 'no valid token or session' })
  @ApiResponse({ status: 404, description: 'no such tenant for this user' })
  // The answer is written here (see `written`), as res.json would write the same object.
  @Header('Content-Type', 'application/json; charset=utf-8')
  async list(@Req() req: AuthedRequest, @Query() q: Record<string, unknown>): Promise<string> {
    const tenant = req.tenant!;
    const f = parseRunFilters(q, this.registry.typeNames(), { defaultLimit: 25, maxLimit: 100 });
    // The API pages one way, by next_cursor; "newer" belongs to the HTML pager.
    if (f.direction === 'newer')
      throw AppError.badRequest('"newer" is not supported by the API: page with "cursor" (next_cursor).');
    const page = await this.query.list(listFilterOf([tenant.id], f, req.principal.id), true);
    const last = page.rows[page.rows.length - 1];
    const next = page.hasMore && last ? encodeCursor(cursorAfter(last, f.sort?.by ?? 'created')) : null;
    return `{"data":${this.dataOf(page, tenant.slug)},"next_cursor":${JSON.stringify(next)}}`;
  }

  private dataOf(page: RunPage, slug: string): string {
    const known = this.written.get(page);
    if (known?.slug === slug) return known.json;
    const json = JSON.stringify(page.rows.map((r) => runJson(r, slug, false)));
    this.written.set(page, { slug, json });
    return json;
  }

  @Get(':id')
  @Can('read', 'Run')
  @Ids({ id: 'run' })
  @ApiOperation({ summary: 'One run' })
  @ApiParam({ name: 'tenant', description: 'tenant slug' })
  @ApiParam({ name: 'id', description: 'run id' })
  @ApiResponse({ status: 404, description: 'no such run in this tenant (also for another tenant’s run)' })
  async get(@Req() req: AuthedRequest, @Param('id', IdPipe) id: number) {
    const tenant = req.tenant!;
    const row = await this.query.get(tenant.id, id);
    if (!row) throw AppError.notFound('Run');
    return runJson(row, tenant.slug);
  }
}
