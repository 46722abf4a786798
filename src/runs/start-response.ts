import type { Request, Response } from 'express';
import { flash, redirectSeeOther } from '../web';
import { runHref } from './run-status';
import type { StartRunResult } from './runs.service';

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
