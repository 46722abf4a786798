import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError } from '../common/app-error';
import { flash, redirectSeeOther } from '../web';
import { runHref } from './run-status';
import { RunTypeRegistry } from './run-types.registry';
import { RunsService, StartRunInput, StartRunResult } from './runs.service';

/**
 * The answer to a start button: a flash saying the run was queued (or that the one already under
 * way was reused), with its "View run" link, and a 303 to `to` once the session holding the flash
 * is stored (a plain res.redirect can reach the browser before the flash does).
 */
export async function answerStart(
  req: Request,
  res: Response,
  start: StartRunResult,
  opts: { tenantSlug: string; queued: string; reused: string; to: string },
): Promise<void> {
  flash(req, start.reused ? 'info' : 'success', start.reused ? opts.reused : opts.queued, {
    href: runHref(opts.tenantSlug, start.run.id),
    label: 'View run',
  });
  await redirectSeeOther(req, res, opts.to);
}

/** A page request as the auth guard leaves it: who asks, in which tenant. */
interface StartingRequest extends Request {
  principal?: { id: number };
  tenant?: { id: number; slug: string };
}

export type PageStart = Omit<StartRunInput, 'tenantId' | 'userId'> & {
  /** Where the browser goes next (the page the button was on, say). */
  to: string;
  /** The flash when a run was queued / an active one reused; by default worded from the type's label. */
  queued?: string;
  reused?: string;
};

/**
 * A producer's start route in one call: starts the run (or reuses the active one with the same
 * idempotency key) for the signed-in user in the route's tenant, and answers as answerStart does.
 * The route itself says who may start (`@Can('start', 'Run')`).
 */
@Injectable()
export class RunStarter {
  constructor(
    private readonly runs: RunsService,
    private readonly registry: RunTypeRegistry,
  ) {}

  async fromPage(req: Request, res: Response, input: PageStart): Promise<StartRunResult> {
    const { principal, tenant } = req as StartingRequest;
    if (!principal || !tenant) throw new Error('RunStarter.fromPage needs a signed-in route with a :tenant');
    const { to, queued, reused, ...run } = input;
    const start = await this.runs.start({ ...run, tenantId: tenant.id, userId: principal.id });
    const label = this.registry.labelOf(input.type);
    await answerStart(req, res, start, {
      tenantSlug: tenant.slug,
      to,
      queued: queued ?? `${label} queued as run #${start.run.id}.`,
      reused: reused ?? `${label} is already under way as run #${start.run.id}.`,
    });
    return start;
  }

  /**
   * The hub's start menu: starts a type that offers itself there (`start` in its @RunProducer), over
   * what its handler prepares, and goes to the run's page. Another type is not found.
   */
  async fromMenu(req: Request, res: Response, type: string): Promise<StartRunResult> {
    const def = this.registry.get(type);
    const { principal, tenant } = req as StartingRequest;
    if (!def?.start || !principal || !tenant) throw AppError.notFound('Run type');
    const prepared = (await def.handler.prepare?.({ id: tenant.id, slug: tenant.slug }, principal.id)) ?? {};
    const start = await this.runs.start({ ...prepared, type, tenantId: tenant.id, userId: principal.id });
    await answerStart(req, res, start, {
      tenantSlug: tenant.slug,
      to: runHref(tenant.slug, start.run.id),
      queued: `${def.label} queued as run #${start.run.id}.`,
      reused: `${def.label} is already under way as run #${start.run.id}.`,
    });
    return start;
  }
}
