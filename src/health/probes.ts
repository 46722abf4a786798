import { Injectable } from '@nestjs/common';
import type { Express, NextFunction, Request, Response } from 'express';
import { HealthService } from './health.service';
import { MetricsService } from './metrics.service';

/**
 * `/healthz`, `/readyz` and `/metrics` as plain Express routes, mounted by configureApp right after
 * the security headers: a probe needs no session, CSRF token, view locals, body parser, request log
 * or Nest pipeline, and load balancers ask often. Nothing on them depends on who asks, and every
 * role (web, worker) answers them.
 */
@Injectable()
export class Probes {
  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
  ) {}

  mount(app: Express): void {
    const send = (res: Response, status: number, type: string, body: string) => {
      res.setHeader('Cache-Control', 'no-store');
      res.status(status).type(type).send(body);
    };

    /** The process is up and serving; says nothing about its dependencies. */
    app.get('/healthz', (_req: Request, res: Response) =>
      send(res, 200, 'json', JSON.stringify({ status: 'ok', uptime_s: Math.round(process.uptime()) })),
    );

    /** Ready only when the database and Redis both answer; 503 names the one that does not. */
    app.get('/readyz', (_req: Request, res: Response, next: NextFunction) => {
      this.health.check().then((checks) => {
        const down = Object.entries(checks)
          .filter(([, c]) => c.status !== 'up')
          .map(([name]) => name);
        const body = { status: down.length ? 'unavailable' : 'ok', down, checks };
        send(res, down.length ? 503 : 200, 'json', JSON.stringify(body));
      }, next);
    });

    /** Prometheus text format. */
    app.get('/metrics', (_req: Request, res: Response, next: NextFunction) => {
      this.metrics.metrics().then((text) => send(res, 200, this.metrics.registry.contentType, text), next);
    });
  }
}
