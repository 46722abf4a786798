import { Module } from '@nestjs/common';
import { PoliciesModule } from '../policies';
import { RunsModule, tableMigration } from '../runs';
import { PolicyExportController } from './policy-export.controller';
import { PolicyExportHandler } from './policy-export.handler';

const rows = tableMigration(1764800000000, 'policy_export_rows', {
  run_id: 'int primary',
  policy_id: 'int primary',
  line: 'varchar(1000)',
});

@Module({
  imports: [RunsModule.forProducer({ queue: 'exports', migrations: [rows] }), PoliciesModule],
  controllers: [PolicyExportController],
  providers: [PolicyExportHandler],
})
export class PolicyExportModule {}
