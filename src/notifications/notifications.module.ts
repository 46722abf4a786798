import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TenantsModule } from '../tenants';
import { BellInterceptor } from './bell.interceptor';
import { NotificationsController } from './notifications.controller';
import { NotificationsRepository } from './notifications.repository';
import { NotificationsService } from './notifications.service';
import { RunNotificationsListener } from './run-notifications.listener';

/** Listens to run.* events; nothing depends on this module. */
@Module({
  imports: [TenantsModule],
  controllers: [NotificationsController],
  providers: [
    NotificationsRepository,
    NotificationsService,
    RunNotificationsListener,
    { provide: APP_INTERCEPTOR, useClass: BellInterceptor },
  ],
  exports: [NotificationsService],
})
export class NotificationsModule {}
