import { INestApplication, Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { getRepositoryToken } from '@nestjs/typeorm';
import { TypeormStore } from 'connect-typeorm';
import express from 'express';
import session from 'express-session';
import helmet from 'helmet';
import responseTime from 'response-time';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Repository } from 'typeorm';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { SessionRow } from './auth/session.entity';
import { MonitoringModule } from './monitoring/monitoring.module';
import { AppConfig } from './config/app-config';
import { PROBE_PATH, PUBLIC_DIR, VIEWS_DIR } from './common/paths';
import { registerViews } from './common/views';

const SESSION_HOURS = 12;

function assetDir(pkgFile: string): string {
  return dirname(require.resolve(pkgFile));
}

/**
 * Everything the HTTP side needs besides Nest's own wiring: security headers, assets served from
 * installed packages (no CDN, strict CSP), sessions in the database, and the view engine. Shared by
 * main.ts and the e2e tests so both run the same stack.
 */
export async function configureApp(app: NestExpressApplication, config: AppConfig): Promise<void> {
  const logger = new Logger('Bootstrap');
  if (config.trustProxy) app.set('trust proxy', 1);
  // Server-side time of every response, for dashboards and the benchmark (X-Response-Time, ms).
  app.use(responseTime({ digits: 3 }));
  app.disable('x-powered-by');
  if (!config.runsWeb) {
    // A worker answers its probes and nothing else; pages belong to web processes.
    app.use((req: express.Request, res: express.Response, next: express.NextFunction) =>
      PROBE_PATH.test(req.path)
        ? next()
        : res
            .status(404)
            .json({ error: 'not_found', message: 'This process runs jobs only (APP_ROLE=worker).' }),
    );
  }
  // Flat forms only (repeated keys become arrays); room for a large policy selection.
  app.useBodyParser('urlencoded', { extended: false, limit: '4mb', parameterLimit: 50_000 });
  app.useBodyParser('json', { limit: '1mb' });

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

  const secret = config.sessionSecret ?? embeddedSessionSecret(config, logger);
  const sessions = app.get<Repository<SessionRow>>(getRepositoryToken(SessionRow));
  // limitSubquery off: MariaDB rejects DELETE … IN (SELECT … LIMIT n). onError set: without it the
  // store announces a permanent "disconnect" on the first failed query and express-session then
  // silently drops sessions until a restart; with it, each request sees the error (a readable 503)
  // and sessions work again as soon as the database does.
  const store = new TypeormStore({
    cleanupLimit: 2,
    limitSubquery: false,
    ttl: SESSION_HOURS * 3600,
    onError: (_store: unknown, err: unknown) => logger.warn({ err }, 'session store query failed'),
  }).connect(sessions);
  // Sessions expire a fixed time after sign-in; the library's touch() would write on every page view
  // (and calls back twice), so it is turned into the no-op a fixed expiry needs.
  store.touch = (_sid: string, _sess: unknown, cb?: (err?: unknown) => void) => cb?.();
  const sessionMiddleware = session({
    name: 'ops.sid',
    secret,
    store,
    resave: false,
    saveUninitialized: false,
    // Not rolling: a page view must not cost a session write.
    rolling: false,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.cookieSecure,
      maxAge: SESSION_HOURS * 3600 * 1000,
    },
  });
  // Probes, metrics, assets and token-authenticated API calls never need a session row.
  app.use((req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (PROBE_PATH.test(req.path) || req.headers.authorization) return next();
    // The session store is the database: when it is down, say so readably instead of a bare 500.
    return sessionMiddleware(req, res, (err?: unknown) => {
      if (!err) return next();
      logger.error({ err, path: req.path }, 'session store unavailable');
      const message =
        'The database is not reachable right now, so sessions cannot be read. Try again in a moment.';
      if (req.path.startsWith('/api/') || !req.accepts('html')) {
        res.status(503).json({ error: 'database_unavailable', message, status: 503 });
        return;
      }
      res.status(503).render('errors/error', {
        title: 'Service unavailable',
        status: 503,
        heading: 'Service unavailable',
        message,
        retry: true,
        bare: true,
      });
    });
  });

  if (config.runsWeb) mountApiDocs(app);

  app.setBaseViewsDir(VIEWS_DIR);
  app.setViewEngine('hbs');
  app.set('view options', { layout: 'layouts/main' });
  // Express caches compiled templates only when told to; without it every render re-reads the file.
  app.set('view cache', true);
  await registerViews();
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

/**
 * Without SESSION_SECRET the embedded default keeps a generated secret beside its SQLite file, so
 * sign-ins survive a restart; elsewhere a per-process secret is the only safe fallback.
 */
function embeddedSessionSecret(config: AppConfig, logger: Logger): string {
  if (config.database.type === 'sqlite' && config.database.file !== ':memory:') {
    const file = join(dirname(config.database.file), '.session-secret');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    return readFileSync(file, 'utf8').trim();
  }
  logger.warn('SESSION_SECRET is not set: using a random one, so sessions end when this process restarts');
  return randomBytes(32).toString('hex');
}

export type AppInstance = INestApplication & NestExpressApplication;
