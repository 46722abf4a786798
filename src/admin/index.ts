/** The administration pages' module (nothing else imports from here but the app). */
export { AdminModule } from './admin.module';
