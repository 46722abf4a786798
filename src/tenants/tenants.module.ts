import { Module } from '@nestjs/common';
import { AuditModule } from '../audit';
import { TenantsRepository } from './tenants.repository';
import { TenantsService } from './tenants.service';

/** Tenants and memberships (user × tenant × role), and the rules that keep a tenant usable. */
@Module({
  imports: [AuditModule],
  providers: [TenantsRepository, TenantsService],
  exports: [TenantsService],
})
export class TenantsModule {}
