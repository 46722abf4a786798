import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { catchError, from, Observable, throwError } from 'rxjs';
import { FormError } from '../common/app-error';
import type { WebRequest } from './request';

const FORM_PAGE = 'web:form-page';

interface FormPageSpec {
  view: string;
  /** The controller method that gives the page's other locals (what its GET shows), from the request. */
  locals: string;
}

/** Fields never typed back into a form, whatever the error was. */
const NEVER_KEPT = /password|secret|private_key|_csrf|token/i;

/**
 * A POST whose form can be wrong: when its handler throws a FormError (AppError.invalid), the page is
 * shown again with status 400, each message beside its input and what was typed kept (passwords and
 * secrets excepted). `locals` names the controller method that gives the rest of the page.
 */
export function FormPage(view: string, locals: string) {
  return applyDecorators(
    SetMetadata(FORM_PAGE, { view, locals } satisfies FormPageSpec),
    UseInterceptors(FormPageInterceptor),
  );
}

@Injectable()
export class FormPageInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<FormPageSpec | undefined>(FORM_PAGE, ctx.getHandler());
    if (!spec) return next.handle();
    const controller = this.moduleRef.get(ctx.getClass(), { strict: false }) as Record<string, unknown>;
    const instance = ctx.switchToHttp();
    return next.handle().pipe(
      catchError((e: unknown) => {
        if (!(e instanceof FormError)) return throwError(() => e);
        const req = instance.getRequest<WebRequest>();
        const res = instance.getResponse<Response>();
        if (req.path.startsWith('/api/') || res.headersSent) return throwError(() => e);
        const fill = controller[spec.locals] as (req: WebRequest) => Promise<object>;
        return from(
          (async () => {
            const locals = await fill.call(controller, req);
            res.status(400).render(spec.view, {
              ...locals,
              errors: e.fields,
              values: kept(req.body),
              // Which form failed, for pages with one form per row (a member's role, a user's status).
              failedAction: req.path,
              formError: 'Some fields need your attention: see the messages beside them.',
            });
          })(),
        );
      }),
    );
  }
}

function kept(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object') return {};
  return Object.fromEntries(Object.entries(body).filter(([k]) => !NEVER_KEPT.test(k)));
}
