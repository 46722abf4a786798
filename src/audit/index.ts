/** The audit log's public face. */
export { AuditModule } from './audit.module';
export { AuditService } from './audit.service';
export type { AuditEntry, AuditInput } from './audit-entry';
export type { AuditFilter } from './audit.repository';
