import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Ids, SignedIn, type AuthedRequest } from '../auth';
import { AppError } from '../common/app-error';
import { IdPipe } from '../common/id.pipe';
import { runHref, RunsService } from '../runs';
import { NoLayout } from '../web';

/**
 * A tenant-free address for a run (the Bull board's job links use it): redirects to the run's page
 * in its tenant, or is not found for a user who is not a member there.
 */
@ApiExcludeController()
@Controller('admin/runs')
export class RunLinkController {
  constructor(private readonly runs: RunsService) {}

  @Get(':id')
  @NoLayout()
  @SignedIn()
  @Ids({ id: 'run' })
  async open(@Req() req: AuthedRequest, @Res() res: Response, @Param('id', IdPipe) id: number) {
    const run = await this.runs.findById(id);
    const m = run && req.principal.memberships.find((x) => x.tenantId === run.tenantId);
    if (!run || !m) throw AppError.notFound('Run');
    res.redirect(runHref(m.slug, run.id));
  }
}
