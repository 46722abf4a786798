import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { LoggerModule } from 'nestjs-pino';
import { AdminModule } from './admin';
import { GraphConnectionModule } from './graph';
import { redactUrl } from './common/redact';
import { AuthModule } from './auth';
import { AppLogger, logSafeError } from './common/app-logger';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DemoModule } from './demo';
import { HealthModule } from './health';
import { BackupSetsModule } from './backup-sets';
import { PROBE_PATH } from './common/paths';
import { DriftModule } from './drift';
import { PolicyExportModule } from './exports';
import { InventoryModule } from './inventory';
import { MonitoringModule } from './monitoring';
import { NotificationsModule } from './notifications';
import { PoliciesModule } from './policies';
import { QueueModule } from './queue';
import { RunsModule } from './runs';
import { TenantsModule } from './tenants';
import { HttpExceptionFilter, ViewLocals, ViewLocalsInterceptor } from './web';

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
            serializers: {
              err: logSafeError,
              // A link token in the path (/invite/<token>) is a secret; so is one in a query string.
              // Only what says which request it was: route params and query repeat the path's secrets.
              req: (req: { id?: unknown; method?: string; url?: string; remoteAddress?: string }) => ({
                id: req.id,
                method: req.method,
                url: redactUrl(req.url),
                remoteAddress: req.remoteAddress,
              }),
            },
          },
        }),
        EventEmitterModule.forRoot({ wildcard: false }),
        DatabaseModule,
        QueueModule,
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
        ViewLocals,
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: APP_INTERCEPTOR, useClass: ViewLocalsInterceptor },
      ],
    };
  }
}
