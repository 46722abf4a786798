import { Body, Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Can, controlFor, CurrentTenant, type AuthedRequest, type TenantContext } from '../auth';
import { AppError } from '../common/app-error';
import { idParam, pageParam, pager, textParam } from '../common/query-params';
import { policyTypeLabel } from '../policies';
import { answerStart, isActive, type RunStatus } from '../runs';
import { FormPage } from '../web';
import type { ChangeType } from './drift-diff';
import { CHANGE_TYPES, comparisonOf, DriftService } from './drift.service';

const PAGE = 50;

@Controller('admin/t/:tenant/drift')
export class DriftController {
  constructor(private readonly drift: DriftService) {}

  @Get()
  @Can('read', 'Finding')
  async landing(@Req() req: AuthedRequest, @Res() res: Response) {
    res.render('drift/landing', await this.landingLocals(req));
  }

  /**
   * The landing page's locals: its GET, and a Generate refused (no two syncs, an unknown scope) shown
   * again with the reason. A scope whose comparison is queued or running says so, instead of the
   * previous counts, and its Generate waits for it to end; the table then follows it live.
   */
  async landingLocals(req: AuthedRequest) {
    const tenant = req.tenant!;
    const role = controlFor(req, 'start', 'Run', 'drift');
    const scopes = await Promise.all(
      (await this.drift.scopeStates(tenant.id)).map(async (c) => {
        const { scope, latest } = c;
        const ready = Boolean(c.baseline && c.current);
        const generating = latest !== null && isActive(latest.status as RunStatus);
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
          generating,
          counts:
            latest && !generating
              ? await this.drift.counts(tenant.id, {
                  scopeKey: scope.key,
                  baselineRunId: latest.baselineRunId,
                  currentRunId: latest.currentRunId,
                })
              : null,
          upToDate,
          control: !role.allowed
            ? role
            : generating
              ? {
                  allowed: false,
                  reason: `Being generated as run #${latest.id}. Generate is offered again when it ends.`,
                }
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
    return {
      title: 'Drift',
      nav: 'drift',
      scopes,
      // While a comparison is queued or running, the table refreshes itself until it ends.
      live: scopes.some((s) => s.generating),
      refreshSeconds: scopes.some((s) => s.generating) ? 5 : undefined,
      readonlyReason: role.allowed ? null : role.reason,
    };
  }

  @Post('generate')
  @Can('start', 'Run')
  @FormPage('drift/landing', 'landingLocals')
  async generate(
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Body() body: Record<string, unknown>,
  ) {
    const scope = typeof body.scope === 'string' && body.scope ? body.scope : this.drift.scopes()[0].key;
    const start = await this.drift.startGenerate(tenant.id, req.principal.id, scope);
    const { run } = start;
    await answerStart(req, res, start, {
      tenantSlug: tenant.slug,
      queued: `Drift generation queued as run #${run.id}.`,
      reused: `This comparison is already ${run.status === 'pending' ? 'queued' : 'running'} as run #${run.id}.`,
      to: `/admin/t/${tenant.slug}/drift`,
    });
  }

  @Get('findings')
  @Can('read', 'Finding')
  async findings(
    @Res() res: Response,
    @CurrentTenant() tenant: TenantContext,
    @Query() q: Record<string, unknown>,
  ) {
    // A bad filter is answered on the page itself (status 400), the findings shown unfiltered by it.
    const filterErrors: string[] = [];
    const read = <T>(f: () => T, fallback: T): T => {
      try {
        return f();
      } catch (e) {
        if (!(e instanceof AppError) || e.code !== 'bad_request') throw e;
        filterErrors.push(e.message);
        return fallback;
      }
    };
    const runId = read(() => idParam(q.run, 'run', 'the id of a drift generation run'), undefined);
    const changeRaw = read(() => textParam(q.change, 'change'), undefined);
    const changeType = read(() => {
      if (changeRaw && !CHANGE_TYPES.includes(changeRaw as ChangeType))
        throw AppError.badRequest(`"change" must be one of: ${CHANGE_TYPES.join(', ')}.`);
      return changeRaw as ChangeType | undefined;
    }, undefined);
    const page = read(() => pageParam(q.page), 1);
    if (filterErrors.length) res.status(400);
    const filterError = filterErrors.length
      ? `${filterErrors.join(' ')} The findings below are shown without that filter.`
      : null;

    let run;
    if (runId) {
      run = await this.drift.run(tenant.id, runId);
    } else {
      const latest = await this.drift.latestRun(tenant.id, this.drift.scopes()[0].key);
      run = latest ? await this.drift.run(tenant.id, latest.id) : null;
    }
    if (!run) {
      res.render('drift/findings', { title: 'Drift findings', nav: 'drift', empty: true, filterError });
      return;
    }
    const p = run.payload ?? {};
    const comparison = comparisonOf(run);
    const [{ rows, total }, counts] = await Promise.all([
      this.drift.findings(tenant.id, { ...comparison, changeType }, (page - 1) * PAGE, PAGE),
      this.drift.counts(tenant.id, comparison),
    ]);
    const href = (extra: Record<string, string>) =>
      `?${new URLSearchParams({ run: String(run.id), ...(changeType ? { change: changeType } : {}), ...extra }).toString()}`;
    res.render('drift/findings', {
      title: 'Drift findings',
      nav: 'drift',
      filterError,
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
