/** The backup-sets producer's public face. */
export { BackupSetsModule } from './backup-sets.module';
export { BackupSetsService, MAX_SELECTION } from './backup-sets.service';
export type { BackupItemRow, BackupSetRow } from './backup-sets.service';
export { BACKUP_ADD_POLICIES, BACKUP_QUEUE } from './backup-sets.queue';
