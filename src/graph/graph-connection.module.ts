import { Module } from '@nestjs/common';
import { AuthModule } from '../auth';
import { RunsModule } from '../runs';
import { TenantsModule } from '../tenants';
import { ConnectionCheckHandler } from './connection-check.handler';
import { ConnectionController } from './connection.controller';
import { GraphCredentialsModule } from './graph-credentials.module';
import { GraphAppModule } from './graph.module';

/** The Microsoft connection page and its "Test connection" run (tenant.connection_check). */
@Module({
  imports: [
    RunsModule.forProducer({ queue: 'graph' }),
    GraphAppModule,
    GraphCredentialsModule,
    TenantsModule,
    AuthModule,
  ],
  controllers: [ConnectionController],
  providers: [ConnectionCheckHandler],
})
export class GraphConnectionModule {}
