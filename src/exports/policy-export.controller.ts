import { Controller, Get, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Can, CurrentTenant, Ids, type TenantContext } from '../auth';
import { Db, IdPipe, RunsService } from '../runs';
import { POLICY_EXPORT } from './policy-export.handler';

const HEADER = '"type","external_id","name","platform"';
@Controller('admin/t/:tenant/exports')
export class PolicyExportController {
  constructor(
    private readonly runs: RunsService,
    private readonly db: Db,
  ) {}

  @Get(':id')
  @Can('read', 'Policy')
  @Ids({ id: `run:${POLICY_EXPORT}` })
  async download(
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Param('id', IdPipe) id: number,
  ) {
    const run = await this.runs.getOfType(tenant.id, id, POLICY_EXPORT);
    const sql = 'SELECT line FROM policy_export_rows WHERE run_id = ? ORDER BY policy_id';
    const lines = (await this.db.query<{ line: string }>(sql, [run.id])).map((r) => r.line);
    res
      .attachment(`policies-${run.id}.csv`)
      .type('text/csv')
      .send([HEADER, ...lines].join('\r\n'));
  }
}
