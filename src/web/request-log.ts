import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { redactUrl } from '../common/redact';
import type { WebRequest } from './request';

/**
 * One line per request at info level, once it is answered: method, address (link tokens and secret
 * query values redacted), status, milliseconds, and who asked (user id, tenant slug) when known.
 * Nothing else of the request: no headers or cookies. Static assets go unlogged, and so do probes
 * (answered before this is mounted). Returns nothing when info lines are off, so a quieter log costs
 * requests nothing at all.
 */
export function requestLog(logger: Logger): RequestHandler | undefined {
  if (!logger.isLevelEnabled('info')) return undefined;
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith('/assets/')) return next();
    const started = performance.now();
    res.once('finish', () => {
      const { principal, tenant } = req as WebRequest;
      logger.info(
        {
          method: req.method,
          url: redactUrl(req.originalUrl),
          status: res.statusCode,
          responseTime: Math.round((performance.now() - started) * 10) / 10,
          userId: principal?.id,
          tenant: tenant?.slug,
        },
        'request completed',
      );
    });
    next();
  };
}
