import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '../common/app-error';
import { AppConfig } from '../config/app-config';
import { Db } from '../database/db';
import { Dialect } from '../database/dialect';
import { APP_CONFIG } from '../config/config.module';
import { isApiTokenRequest } from './csrf';
import { CacheBus } from '../queue';
import { SqlSessionStore } from './session-store';
import type { AuthState } from './users.repository';

export const SESSION_COOKIE = 'ops.sid';
const SESSION_HOURS = 12;
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Browser sessions: where they live (SqlSessionStore), the express-session middleware every page
 * request passes through, and the pruning of expired rows.
 */
@Injectable()
export class SessionsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Sessions');
  readonly secret: string;
  readonly store: SqlSessionStore;
  private pruner: NodeJS.Timeout | undefined;

  constructor(
    db: Db,
    dialect: Dialect,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() bus?: CacheBus,
  ) {
    this.secret = config.sessionSecret ?? this.embeddedSecret();
    this.store = new SqlSessionStore(db, dialect, SESSION_HOURS * 3600_000, bus);
  }

  onModuleInit(): void {
    if (!this.config.runsWeb) return;
    const prune = () =>
      void this.store.prune().catch((e) => this.logger.warn({ err: e }, 'could not prune sessions'));
    prune();
    this.pruner = setInterval(prune, PRUNE_EVERY_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.pruner);
  }

  /**
   * The session middleware for every request but probes and token-authenticated API calls. Sessions
   * expire a fixed time after sign-in and are stored only once something is put in them (sign-in,
   * a flash message), never for a plain anonymous page view.
   */
  middleware(skip: (req: Request) => boolean): RequestHandler {
    const handler = session({
      name: SESSION_COOKIE,
      secret: this.secret,
      store: this.store,
      resave: false,
      saveUninitialized: false,
      rolling: false,
      cookie: {
        httpOnly: true,
        sameSite: 'lax',
        secure: this.config.cookieSecure,
        maxAge: SESSION_HOURS * 3600 * 1000,
      },
    });
    return (req: Request, res: Response, next: NextFunction) => {
      if (skip(req) || isApiTokenRequest(req)) return next();
      handler(req, res, (err?: unknown) => {
        // The session row's user state, read in the same statement: the principal needs no read of its own.
        const state = req.sessionID
          ? this.store.takeAuthState(req.sessionID, (req.session as { userId?: number } | undefined)?.userId)
          : undefined;
        if (state !== undefined) (req as Request & { authState?: AuthState | null }).authState = state;
        if (!err) return next();
        this.logger.error({ err, path: req.path }, 'session store unavailable');
        // A save that fails after the response went out (express-session saves on res.end) has
        // nobody left to tell; answering again would throw ERR_HTTP_HEADERS_SENT and end the process.
        if (res.headersSent) return;
        next(
          new AppError(
            'database_unavailable',
            'The database is not reachable right now, so sessions cannot be read. Try again in a moment.',
          ),
        );
      });
    };
  }

  /** Ends a user's sessions at once (a deactivation, a new password), but the one given. */
  endSessionsOf(userId: number, exceptSid?: string): Promise<void> {
    return this.store.destroyUserSessions(userId, exceptSid);
  }

  /**
   * Without SESSION_SECRET the embedded default keeps a generated secret beside its SQLite file, so
   * sign-ins survive a restart; elsewhere a per-process secret is the only safe fallback.
   */
  private embeddedSecret(): string {
    const db = this.config.database;
    if (db.type === 'sqlite' && db.file !== ':memory:') {
      const file = join(dirname(db.file), '.session-secret');
      if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
      return readFileSync(file, 'utf8').trim();
    }
    this.logger.warn(
      'SESSION_SECRET is not set: using a random one, so sessions end when this process restarts',
    );
    return randomBytes(32).toString('hex');
  }
}
