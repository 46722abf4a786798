import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AuthService } from '../auth';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/** On a database without any account (and no demo seed to make some), says how to create the first one. */
@Injectable()
export class FirstRunNotice implements OnApplicationBootstrap {
  private readonly logger = new Logger('FirstRun');

  constructor(
    private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.demoSeed || !this.config.runsWeb) return;
    if ((await this.auth.userCount()) > 0) return;
    this.logger.warn(
      'No account exists yet. Create the first platform admin with: npm run cli -- create-admin --email you@example.com ' +
        '(it prints a link to set the password).',
    );
  }
}
