/** Per-user notifications fed by run events; nothing depends on this module but the app. */
export { NotificationsModule } from './notifications.module';
export { NotificationsService } from './notifications.service';
export type { NotificationInput, NotificationRow } from './notifications.service';
