import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { InventoryModule } from '../inventory/inventory.module';
import { TenantsModule } from '../tenants/tenants.module';
import { DemoSeedService } from './demo-seed.service';

@Module({
  imports: [AuthModule, TenantsModule, InventoryModule],
  providers: [DemoSeedService],
})
export class DemoModule {}
