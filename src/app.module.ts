import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { LoggerModule } from 'nestjs-pino';
import { AdminModule } from './admin';
import { GraphConnectionModule } from './graph';
import { AuthModule } from './auth';
import { APP_PINO, AppLogger, appPino } from './common/app-logger';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DemoModule } from './demo';
import { HealthModule } from './health';
import { BackupSetsModule } from './backup-sets';
import { DriftModule } from './drift';
import { PolicyExportModule } from './exports';
import { InventoryModule } from './inventory';
import { MonitoringModule } from './monitoring';
import { NotificationsModule } from './notifications';
import { PoliciesModule } from './policies';
import { CacheBusModule, QueueModule } from './queue';
import { RunsModule } from './runs';
import { TenantsModule } from './tenants';
import { HttpExceptionFilter, ViewLocals } from './web';

@Module({})
export class AppModule {
  /** The whole app for one validated configuration; tests build it with their own. */
  static forRoot(config: AppConfig, extraModules: DynamicModule['imports'] = []): DynamicModule {
    const logger = appPino(config.logLevel);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: { logger },
          // Requests are logged by web's requestLog, one short line each (configureApp): pino-http's
          // per-request child logger, request id, serializers and async context are mounted on no
          // route.
          forRoutes: [],
        }),
        EventEmitterModule.forRoot({ wildcard: false }),
        DatabaseModule,
        QueueModule,
        CacheBusModule,
        TenantsModule,
        AuthModule,
        AdminModule,
        RunsModule,
        MonitoringModule,
        PoliciesModule,
        InventoryModule,
        DriftModule,
        BackupSetsModule,
        PolicyExportModule,
        GraphConnectionModule,
        NotificationsModule,
        HealthModule,
        DemoModule,
        ...extraModules,
      ],
      providers: [
        AppLogger,
        { provide: APP_PINO, useValue: logger },
        ViewLocals,
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
      ],
    };
  }
}
