import { Module } from '@nestjs/common';
import { RunsModule } from '../runs/runs.module';
import { OperationsController } from './operations.controller';
import { RunsApiController } from './runs-api.controller';

/** Pages and API that read the hub; producers never depend on this module. */
@Module({
  imports: [RunsModule],
  controllers: [OperationsController, RunsApiController],
})
export class MonitoringModule {}
