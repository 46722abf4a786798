import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from './auth/auth.module';
import { AppLogger, logSafeError } from './common/app-logger';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { ViewLocals, ViewLocalsInterceptor } from './common/view-locals.interceptor';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DemoModule } from './demo/demo.module';
import { HealthModule } from './health/health.module';
import { BackupSetsModule } from './backup-sets/backup-sets.module';
import { PROBE_PATH } from './common/paths';
import { DriftModule } from './drift/drift.module';
import { InventoryModule } from './inventory/inventory.module';
import { MonitoringModule } from './monitoring/monitoring.module';
import { NotificationsModule } from './notifications/notifications.module';
import { QueueModule } from './queue/queue.module';
import { RunsModule } from './runs/runs.module';
import { TenantsModule } from './tenants/tenants.module';

@Module({})
export class AppModule {
  /** The whole app for one validated configuration; tests build it with their own. */
  static forRoot(config: AppConfig, extraModules: DynamicModule['imports'] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
            autoLogging: {
              ignore: (req) => (req.url ?? '').startsWith('/assets/') || PROBE_PATH.test(req.url ?? ''),
            },
            quietReqLogger: true,
            // An error's message and stack may quote tokens and passwords back (providers echo
            // requests); only a sanitized copy and a few safe fields reach the log.
            serializers: { err: logSafeError },
          },
        }),
        EventEmitterModule.forRoot({ wildcard: false }),
        DatabaseModule,
        QueueModule,
        TenantsModule,
        AuthModule,
        RunsModule,
        MonitoringModule,
        InventoryModule,
        DriftModule,
        BackupSetsModule,
        NotificationsModule,
        HealthModule,
        DemoModule,
        ...extraModules,
      ],
      providers: [
        AppLogger,
        ViewLocals,
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: APP_INTERCEPTOR, useClass: ViewLocalsInterceptor },
      ],
    };
  }
}
