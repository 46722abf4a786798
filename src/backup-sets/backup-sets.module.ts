import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { RunsModule } from '../runs/runs.module';
import { TenantsModule } from '../tenants/tenants.module';
import { AddPoliciesHandler } from './add-policies.handler';
import { BackupSetsController } from './backup-sets.controller';
import { BACKUP_QUEUE } from './backup-sets.queue';
import { BackupSetsService } from './backup-sets.service';

/** Backup sets and their items; produces backup_set.add_policies runs. */
@Module({
  imports: [RunsModule, InventoryModule, TenantsModule, BullModule.registerQueue({ name: BACKUP_QUEUE })],
  controllers: [BackupSetsController],
  providers: [BackupSetsService, AddPoliciesHandler],
  exports: [BackupSetsService],
})
export class BackupSetsModule {}
