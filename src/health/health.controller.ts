import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '../auth';
import { HealthService } from './health.service';
import { MetricsService } from './metrics.service';

@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
  ) {}

  /** The process is up and serving; says nothing about its dependencies. */
  @Get('/healthz')
  healthz() {
    return { status: 'ok', uptime_s: Math.round(process.uptime()) };
  }

  /** Prometheus text format. */
  @Get('/metrics')
  async prometheus(@Res() res: Response) {
    res.type(this.metrics.registry.contentType).send(await this.metrics.metrics());
  }

  /** Ready only when the database and Redis both answer; 503 names the one that does not. */
  @Get('/readyz')
  async readyz(@Res() res: Response) {
    const checks = await this.health.check();
    const down = Object.entries(checks)
      .filter(([, c]) => c.status !== 'up')
      .map(([name]) => name);
    res.setHeader('Cache-Control', 'no-store');
    res.status(down.length ? 503 : 200).json({ status: down.length ? 'unavailable' : 'ok', down, checks });
  }
}
