import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { AppError, ERROR_STATUS, ERROR_TITLES, FormError } from '../common/app-error';
import { isDatabaseUnavailable, isRedisUnavailable } from '../common/infra-errors';
import type { WebRequest } from './request';
import { ViewLocals } from './view-locals';

interface Mapped {
  status: number;
  code: string;
  message: string;
}

/**
 * The one place errors become responses: a readable page or JSON body with a status that says what
 * happened. Details (stacks, driver messages) go to the log only.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  constructor(private readonly locals: ViewLocals) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<WebRequest>();
    const res = ctx.getResponse<Response>();
    const mapped = this.map(exception);
    if (mapped.status >= 500) {
      this.logger.error({ err: exception, path: req.path, status: mapped.status }, 'request failed');
    }
    if (res.headersSent) return;
    res.setHeader('Cache-Control', 'no-store');

    const wantsJson =
      req.path.startsWith('/api/') ||
      (req.accepts(['html', 'json']) === 'json' && !req.path.startsWith('/admin'));
    if (wantsJson) {
      res.status(mapped.status).json({
        error: mapped.code,
        message: mapped.message,
        status: mapped.status,
        // Which field was wrong and why, for a client that shows it beside its input.
        ...(exception instanceof FormError ? { fields: exception.fields } : {}),
      });
      return;
    }
    if (mapped.code === 'unauthenticated' && req.method === 'GET') {
      res.redirect(`/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    try {
      this.locals.populate(req, res);
    } catch {
      // The error page must render even when the session itself is what failed.
    }
    res.status(mapped.status).render(
      'errors/error',
      {
        title: ERROR_TITLES[mapped.status] ?? 'Error',
        status: mapped.status,
        heading: ERROR_TITLES[mapped.status] ?? 'Error',
        message: mapped.message,
        retry: mapped.status === 503,
      },
      (err, html) => {
        if (err) {
          this.logger.error({ err }, 'error page failed to render');
          res.status(mapped.status).type('text/plain').send(`${mapped.status} ${mapped.message}`);
          return;
        }
        res.send(html);
      },
    );
  }

  private map(e: unknown): Mapped {
    if (e instanceof AppError) return { status: ERROR_STATUS[e.code], code: e.code, message: e.message };
    if (e instanceof HttpException) {
      const status = e.getStatus();
      const body = e.getResponse() as string | { message?: string | string[] };
      const raw = typeof body === 'string' ? body : body.message;
      const message =
        status === 404
          ? 'There is no page at this address.'
          : status >= 500
            ? 'Something went wrong on our side. The error was logged.'
            : (Array.isArray(raw) ? raw.join('; ') : raw) || ERROR_TITLES[status] || 'Request failed';
      return { status, code: codeFor(status), message };
    }
    const asHttp = e as {
      status?: number;
      statusCode?: number;
      type?: string;
      expose?: boolean;
      message?: string;
    };
    // body-parser, serve-static and friends throw http-errors: a client fault. Their message is safe
    // to show only when marked so (a missing asset's carries the file system path).
    const s = asHttp?.statusCode ?? asHttp?.status;
    if (typeof s === 'number' && s >= 400 && s < 500) {
      const message =
        s === 404
          ? 'There is no page at this address.'
          : s === 413
            ? 'That request is too large to be read. Send less at once (for a policy selection: select fewer, or use "select all matching").'
            : asHttp.expose && asHttp.message
              ? asHttp.message
              : (ERROR_TITLES[s] ?? 'Bad request');
      return { status: s, code: codeFor(s), message };
    }
    if (isDatabaseUnavailable(e)) {
      return {
        status: 503,
        code: 'database_unavailable',
        message: 'The database is not reachable right now. Try again in a moment.',
      };
    }
    if (isRedisUnavailable(e)) {
      return {
        status: 503,
        code: 'queue_unavailable',
        message: 'The job queue (Redis) is not reachable right now. Try again in a moment.',
      };
    }
    return {
      status: 500,
      code: 'internal_error',
      message: 'Something went wrong on our side. The error was logged.',
    };
  }
}

function codeFor(status: number): string {
  const found = Object.entries(ERROR_STATUS).find(([, s]) => s === status);
  if (found) return found[0];
  return status >= 500 ? 'internal_error' : 'bad_request';
}
