import { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import helmet from 'helmet';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import responseTime from 'response-time';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { SessionsService } from './auth';
import { AppError } from './common/app-error';
import { APP_PINO } from './common/app-logger';
import { PROBE_PATH, PUBLIC_DIR, VIEWS_DIR } from './common/paths';
import { AppConfig } from './config/app-config';
import { Probes } from './health';
import { MonitoringModule } from './monitoring';
import { formBody, registerViews, requestLog, ViewLocals } from './web';

/** Room for a 20,000-policy selection (one field repeated) plus the form's own fields. */
const FORM_LIMITS = { maxBytes: '1mb', maxFields: 25_000 };
/** Longer addresses are refused readably; the HTTP parser itself stops at 16 KB of headers. */
const MAX_URL_LENGTH = 8192;

function assetDir(pkgFile: string): string {
  return join(require.resolve(pkgFile), '..');
}

/**
 * Everything the HTTP side needs besides Nest's own wiring: security headers, assets served from
 * installed packages (no CDN, strict CSP), sessions in the database, and the view engine. Shared by
 * main.ts and the e2e tests so both run the same stack.
 *
 * Order is cost: every request passes the middleware above the one that answers it. Probes come
 * right after the security headers; the request log, body parsers and sessions only after them.
 */
export async function configureApp(app: NestExpressApplication, config: AppConfig): Promise<void> {
  if (config.trustProxy) app.set('trust proxy', 1);
  answerMalformedRequests(app.getHttpServer() as Server);
  app.disable('x-powered-by');
  // Every dynamic answer is Cache-Control: no-store, so a validator is never used: no ETag (a hash
  // of every page). Static assets keep theirs (express.static's own).
  app.set('etag', false);
  const server = app.getHttpAdapter().getInstance() as express.Express;

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'connect-src': ["'self'"],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          'upgrade-insecure-requests': config.cookieSecure ? [] : null,
        },
      },
      strictTransportSecurity: config.cookieSecure,
    }),
  );
  app.get(Probes).mount(server);

  const log = requestLog(app.get(APP_PINO));
  if (log) app.use(log);
  // Server-side time of every response, for dashboards and the benchmark (X-Response-Time, ms).
  app.use(responseTime({ digits: 3 }));
  app.use((req: express.Request, _res: express.Response, next: express.NextFunction) =>
    req.originalUrl.length > MAX_URL_LENGTH
      ? next(
          new AppError(
            'uri_too_long',
            `This address is longer than ${MAX_URL_LENGTH} characters, so it was not read. Use fewer or shorter filters.`,
          ),
        )
      : next(),
  );
  if (!config.runsWeb) {
    // A worker answers its probes (mounted above) and nothing else; pages belong to web processes.
    app.use((_req: express.Request, res: express.Response) =>
      res.status(404).json({ error: 'not_found', message: 'This process runs jobs only (APP_ROLE=worker).' }),
    );
  }
  // Forms are parsed in linear time with a field cap (web/form-body.ts); JSON is for the Bull board.
  app.use(formBody(FORM_LIMITS));
  app.useBodyParser('json', { limit: '1mb' });

  // Swagger UI and the Bull board style themselves inline: only their pages get that allowance.
  app.use(
    ['/api/docs', '/admin/queues'],
    (_req: express.Request, res: express.Response, next: express.NextFunction) => {
      res.setHeader(
        'Content-Security-Policy',
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
      );
      next();
    },
  );

  const staticOpts = { maxAge: config.env === 'production' ? '7d' : 0, index: false, fallthrough: false };
  app.use('/assets/pico', express.static(join(assetDir('@picocss/pico/package.json'), 'css'), staticOpts));
  app.use('/assets/htmx', express.static(join(assetDir('htmx.org/package.json'), 'dist'), staticOpts));
  app.use('/assets', express.static(PUBLIC_DIR, staticOpts));

  // Pages and API answers may hold what only this user may see (a new API token, say): never cached.
  app.use((_req: express.Request, res: express.Response, next: express.NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(app.get(SessionsService).middleware((req) => PROBE_PATH.test(req.path)));

  if (config.runsWeb) mountApiDocs(app);

  app.setBaseViewsDir(VIEWS_DIR);
  app.setViewEngine('hbs');
  app.set('view options', { layout: 'layouts/main' });
  // Express caches compiled templates only when told to; without it every render re-reads the file.
  app.set('view cache', true);
  app.get(ViewLocals).install(server);
  await registerViews();
}

/**
 * Requests the HTTP parser refuses before Express sees them (headers over 16 KB, broken syntax) get
 * a short readable answer instead of a bare status line.
 */
function answerMalformedRequests(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const message = tooLarge
      ? "The request headers (cookies, or a very long address) are larger than 16 KB, so the request was not read. Clear this site's cookies or shorten the address."
      : 'The request could not be read (it is not valid HTTP).';
    const body = JSON.stringify({ error: tooLarge ? 'headers_too_large' : 'bad_request', message });
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/** The runs API's OpenAPI document at /api/docs-json and Swagger UI at /api/docs (web processes only). */
function mountApiDocs(app: NestExpressApplication): void {
  const openApi = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Tenant Operations Hub API')
      .setDescription(
        'Operation runs as JSON. Authenticate with a personal API token (Profile → API tokens) as `Authorization: Bearer <token>`, or with the browser session.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
    { include: [MonitoringModule] },
  );
  SwaggerModule.setup('api/docs', app, openApi, {
    jsonDocumentUrl: 'api/docs-json',
    customSiteTitle: 'Runs API',
  });
}

export type AppInstance = INestApplication & NestExpressApplication;
