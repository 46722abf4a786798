import { Module } from '@nestjs/common';
import { AuditModule } from '../audit';
import { TenantsModule } from '../tenants';
import { AccountsService } from './accounts.service';
import { AuthService } from './auth.service';
import { InvitationsRepository } from './invitations.repository';
import { Mailer } from './mailer';
import { SessionsService } from './sessions.service';
import { UsersRepository } from './users.repository';

/**
 * Users, passwords, API tokens, sessions' storage and invitations: everything about people that needs
 * no HTTP, so the command line (create-admin, reset-password…) uses the same code as the pages.
 */
@Module({
  imports: [TenantsModule, AuditModule],
  providers: [UsersRepository, InvitationsRepository, AuthService, AccountsService, SessionsService, Mailer],
  exports: [AuthService, AccountsService, SessionsService],
})
export class AccountsModule {}
