import { Body, Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Can } from '../auth/decorators';
import { AppError } from '../common/app-error';
import { flashRunStart, redirectSeeOther } from '../common/flash';
import type { AuthedRequest } from '../common/principal';
import { idParam, pageParam, pager, textParam } from '../common/query-params';
import { controlFor } from '../common/start-control';
import { policyTypeLabel } from '../inventory/inventory.service';
import { RunsService } from '../runs/runs.service';
import type { ChangeType } from './drift-diff';
import { DRIFT_GENERATE } from './drift.queue';
import { CHANGE_TYPES, DriftService } from './drift.service';

const PAGE = 50;

@Controller('admin/t/:tenant/drift')
export class DriftController {
  constructor(
    private readonly drift: DriftService,
    private readonly runs: RunsService,
  ) {}

  @Get()
  @Can('read', 'Finding')
  async landing(@Req() req: AuthedRequest, @Res() res: Response) {
    const tenant = req.tenant!;
    const role = controlFor(req, 'start', 'Run', 'drift');
    const scopes = await Promise.all(
      (await this.drift.scopeStates(tenant.id)).map(async (c) => {
        const { scope, latest } = c;
        const ready = Boolean(c.baseline && c.current);
        const upToDate =
          latest &&
          c.current &&
          latest.currentRunId === c.current.id &&
          latest.baselineRunId === c.baseline?.id;
        return {
          ...scope,
          typeLabels: scope.types.map(policyTypeLabel),
          baseline: c.baseline,
          current: c.current,
          latest,
          counts: latest
            ? await this.drift.counts(tenant.id, scope.key, latest.baselineRunId, latest.currentRunId)
            : null,
          upToDate,
          control: !role.allowed
            ? role
            : ready
              ? { allowed: true }
              : {
                  allowed: false,
                  reason:
                    'Needs two successful inventory syncs to compare. Run "Sync now" on the Policies page.',
                },
        };
      }),
    );
    res.render('drift/landing', {
      title: 'Drift',
      nav: 'drift',
      scopes,
      readonlyReason: role.allowed ? null : role.reason,
    });
  }

  @Post('generate')
  @Can('start', 'Run')
  async generate(@Req() req: AuthedRequest, @Res() res: Response, @Body() body: Record<string, unknown>) {
    const tenant = req.tenant!;
    const scope = typeof body.scope === 'string' && body.scope ? body.scope : this.drift.scopes()[0].key;
    const start = await this.drift.startGenerate(tenant.id, req.principal.id, scope);
    const { run } = start;
    flashRunStart(req, tenant.slug, start, {
      queued: `Drift generation queued as run #${run.id}.`,
      reused: `This comparison is already ${run.status === 'pending' ? 'queued' : 'running'} as run #${run.id}.`,
    });
    await redirectSeeOther(req, res, `/admin/t/${tenant.slug}/drift`);
  }

  @Get('findings')
  @Can('read', 'Finding')
  async findings(@Req() req: AuthedRequest, @Res() res: Response, @Query() q: Record<string, unknown>) {
    const tenant = req.tenant!;
    const runId = idParam(q.run, 'run', 'the id of a drift generation run');
    const changeRaw = textParam(q.change, 'change');
    if (changeRaw && !CHANGE_TYPES.includes(changeRaw as ChangeType)) {
      throw AppError.badRequest(`"change" must be one of: ${CHANGE_TYPES.join(', ')}.`);
    }
    const page = pageParam(q.page);
    const changeType = changeRaw as ChangeType | undefined;

    let run;
    if (runId) {
      run = await this.runs.getForTenant(tenant.id, runId);
      if (run.runType() !== DRIFT_GENERATE)
        throw AppError.badRequest(`Run #${run.id} is not a drift generation run.`);
    } else {
      const latest = await this.drift.latestRun(tenant.id, this.drift.scopes()[0].key);
      run = latest ? await this.runs.getForTenant(tenant.id, latest.id) : null;
    }
    if (!run) {
      res.render('drift/findings', { title: 'Drift findings', nav: 'drift', empty: true });
      return;
    }
    const p = run.payload ?? {};
    const comparison = {
      scopeKey: String(p.scope_key),
      baselineRunId: Number(p.baseline_run_id),
      currentRunId: Number(p.current_run_id),
    };
    const [{ rows, total }, counts] = await Promise.all([
      this.drift.findings(tenant.id, { ...comparison, changeType }, (page - 1) * PAGE, PAGE),
      this.drift.counts(tenant.id, comparison.scopeKey, comparison.baselineRunId, comparison.currentRunId),
    ]);
    const href = (extra: Record<string, string>) =>
      `?${new URLSearchParams({ run: String(run.id), ...(changeType ? { change: changeType } : {}), ...extra }).toString()}`;
    res.render('drift/findings', {
      title: 'Drift findings',
      nav: 'drift',
      run: {
        id: run.id,
        status: run.status,
        bucket: run.statusBucket,
        scopeName: p.scope_name,
        ...comparison,
      },
      findings: rows.map((f) => ({ ...f, typeLabel: policyTypeLabel(f.policyType) })),
      counts,
      total,
      changeType,
      changeFilters: [
        { label: 'All', href: `?run=${run.id}`, current: !changeType },
        ...CHANGE_TYPES.map((c) => ({
          label: c,
          href: `?run=${run.id}&change=${c}`,
          current: c === changeType,
          count: counts[c],
        })),
      ],
      ...pager(page, total, PAGE, (n) => href({ page: String(n) })),
    });
  }
}
