import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AccountsModule } from '../auth';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { GraphCredentialsModule } from '../graph';
import { TenantsModule } from '../tenants';
import { COMMANDS } from './commands';

/**
 * What the command line needs: the configuration, the database (migrated, as the app would), and the
 * people and tenants services the pages use. No HTTP, no queues, no Redis.
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
        TenantsModule,
        AccountsModule,
        GraphCredentialsModule,
      ],
      providers: [...COMMANDS],
    };
  }
}
