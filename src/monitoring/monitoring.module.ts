import { Module, OnModuleInit } from '@nestjs/common';
import { AuditModule } from '../audit';
import { AuthModule } from '../auth';
import { BUCKET_LABELS, RunsModule, type StatusBucket } from '../runs';
import { registerViewHelper } from '../web';
import { OperationsController } from './operations.controller';
import { RunLinkController } from './run-link.controller';
import { RunsApiController } from './runs-api.controller';
import { AllOperationsController } from './all-operations.controller';
import { SavedViewsRepository } from './saved-views.repository';

/** Pages and API that read the hub; producers never depend on this module. */
@Module({
  imports: [RunsModule, AuthModule, AuditModule],
  controllers: [OperationsController, AllOperationsController, RunsApiController, RunLinkController],
  providers: [SavedViewsRepository],
})
export class MonitoringModule implements OnModuleInit {
  onModuleInit(): void {
    // Status labels wherever a template shows a bucket (lists, detail, notifications, backup sets).
    registerViewHelper('bucketName', (b: unknown) => BUCKET_LABELS[b as StatusBucket] ?? String(b ?? ''));
  }
}
