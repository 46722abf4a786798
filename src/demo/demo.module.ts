import { Module } from '@nestjs/common';
import { AuthModule } from '../auth';
import { InventoryModule } from '../inventory';
import { TenantsModule } from '../tenants';
import { DemoSeedService } from './demo-seed.service';
import { DemoSourceController } from './demo-source.controller';
import { DemoSourceModule } from './source';

/** The demo tenants and users (DEMO_SEED) and the demo source's page. */
@Module({
  imports: [AuthModule, TenantsModule, InventoryModule, DemoSourceModule],
  controllers: [DemoSourceController],
  providers: [DemoSeedService],
})
export class DemoModule {}
