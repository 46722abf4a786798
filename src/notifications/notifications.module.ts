import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants';
import { BellLayoutPart } from './bell.layout-part';
import { NotificationsController } from './notifications.controller';
import { NotificationsRepository } from './notifications.repository';
import { NotificationsService } from './notifications.service';
import { RunNotificationsListener } from './run-notifications.listener';

/** Listens to run.* events; nothing depends on this module. */
@Module({
  imports: [TenantsModule],
  controllers: [NotificationsController],
  providers: [NotificationsRepository, NotificationsService, RunNotificationsListener, BellLayoutPart],
  exports: [NotificationsService],
})
export class NotificationsModule {}
