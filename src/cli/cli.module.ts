import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AccountsModule } from '../auth';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { GraphCredentialsModule } from '../graph';
import { CacheBusModule } from '../queue';
import { TenantsModule } from '../tenants';
import { COMMANDS } from './commands';

/**
 * What the command line needs: the configuration, the database (migrated, as the app would), and the
 * people and tenants services the pages use. No HTTP, no queues; Redis (when REDIS_URL is set) only to
 * announce its changes on the CacheBus, so running apps drop what they kept of a deactivated user.
 */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config),
        EventEmitterModule.forRoot({ wildcard: false }),
        DatabaseModule,
        CacheBusModule,
        TenantsModule,
        AccountsModule,
        GraphCredentialsModule,
      ],
      providers: [...COMMANDS],
    };
  }
}
