import { Module } from '@nestjs/common';
import { AuditModule } from '../audit';
import { AuthModule } from '../auth';
import { TenantsModule } from '../tenants';
import { AuditController } from './audit.controller';
import { InvitationsController } from './invitations.controller';
import { MembersController } from './members.controller';
import { TenantsAdminController } from './tenants-admin.controller';
import { UsersController } from './users.controller';
import { FirstRunNotice } from './first-run.notice';

/**
 * The administration pages: tenants and users (platform admins), members and invitations (tenant
 * owners), the audit logs. Pages only: the rules live in the tenants, auth and audit modules.
 */
@Module({
  imports: [AuthModule, TenantsModule, AuditModule],
  controllers: [
    TenantsAdminController,
    MembersController,
    InvitationsController,
    UsersController,
    AuditController,
  ],
  providers: [FirstRunNotice],
})
export class AdminModule {}
