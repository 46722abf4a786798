import { Module } from '@nestjs/common';
import { AuthModule } from '../auth';
import { PoliciesModule } from '../policies';
import { RunsModule } from '../runs';
import { TenantsModule } from '../tenants';
import { AddPoliciesHandler } from './add-policies.handler';
import { BackupSetsController } from './backup-sets.controller';
import { BACKUP_QUEUE } from './backup-sets.queue';
import { BackupSetsRepository } from './backup-sets.repository';
import { BackupSetsService } from './backup-sets.service';
import { BackupSetSortIndexes1765620000000 } from './migrations/1765620000000-backup-set-sort-indexes';

/** Backup sets and their items; produces backup_set.add_policies runs. */
@Module({
  imports: [
    RunsModule.forProducer({ queue: BACKUP_QUEUE, migrations: [BackupSetSortIndexes1765620000000] }),
    PoliciesModule,
    TenantsModule,
    AuthModule,
  ],
  controllers: [BackupSetsController],
  providers: [BackupSetsRepository, BackupSetsService, AddPoliciesHandler],
  exports: [BackupSetsService],
})
export class BackupSetsModule {}
