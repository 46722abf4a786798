import { Module } from '@nestjs/common';
import { RunsModule } from '../runs/runs.module';
import { OperationsController } from './operations.controller';
import { RunLinkController } from './run-link.controller';
import { RunsApiController } from './runs-api.controller';

/** Pages and API that read the hub; producers never depend on this module. */
@Module({
  imports: [RunsModule],
  controllers: [OperationsController, RunsApiController, RunLinkController],
})
export class MonitoringModule {}
