import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AuthService } from '../auth';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Dialect } from '../database/dialect';
import { InventoryService } from '../inventory';
import { TenantsService, type Role } from '../tenants';

export const DEMO_USERS: Array<{ email: string; name: string; isOps: boolean; roles: Record<string, Role> }> =
  [
    {
      email: 'admin@example.com',
      name: 'Avery Admin',
      isOps: true,
      roles: { contoso: 'owner', fabrikam: 'owner' },
    },
    { email: 'operator@example.com', name: 'Olivia Operator', isOps: false, roles: { contoso: 'operator' } },
    { email: 'readonly@example.com', name: 'Riley Readonly', isOps: false, roles: { contoso: 'readonly' } },
  ];

export const DEMO_TENANTS = [
  { slug: 'contoso', name: 'Contoso Ltd' },
  { slug: 'fabrikam', name: 'Fabrikam Inc' },
];

/** On an empty database with DEMO_SEED on, creates the demo tenants and users of DESIGN.md. */
@Injectable()
export class DemoSeedService implements OnApplicationBootstrap {
  private readonly logger = new Logger('DemoSeed');

  constructor(
    private readonly auth: AuthService,
    private readonly tenants: TenantsService,
    private readonly inventory: InventoryService,
    private readonly dialect: Dialect,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.demoSeed || !this.config.runsWeb) return;
    if ((await this.auth.userCount()) > 0 || (await this.tenants.count()) > 0) return;
    try {
      await this.seed();
    } catch (e) {
      // Two processes booting on one empty database: the loser hits a unique key and moves on.
      if (!this.dialect.isUniqueViolation(e)) throw e;
    }
  }

  private async seed(): Promise<void> {
    const ids = new Map<string, number>();
    const system = { id: null };
    for (const t of DEMO_TENANTS) {
      const tenant = await this.tenants.create(
        { slug: t.slug, name: t.name, microsoftTenantId: null, notes: null },
        system,
      );
      ids.set(t.slug, tenant.id);
    }
    for (const u of DEMO_USERS) {
      const user = await this.auth.createUser({
        email: u.email,
        name: u.name,
        password: this.config.demoPassword,
        isOps: u.isOps,
      });
      for (const [slug, role] of Object.entries(u.roles))
        await this.tenants.addMember(ids.get(slug)!, user.id, role, system, u.email);
    }
    this.logger.log('Demo tenants contoso and fabrikam and three demo users created');
    // A first inventory snapshot per tenant, so a new user finds runs and policies to look at. Tests
    // seed users only and start their own runs.
    if (this.config.env !== 'test') {
      for (const id of ids.values()) await this.inventory.startSync(id, null).catch(() => undefined);
    }
  }
}
