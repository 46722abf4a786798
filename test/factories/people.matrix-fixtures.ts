import { randomBytes } from 'node:crypto';
import { AccountsService, AuthService } from '../../src/auth';
import { TenantsService } from '../../src/tenants';
import { DEMO_PASSWORD } from './test-app';
import type { FixtureContext, MatrixFixtures } from './matrix-fixtures';

const made = new Map<string, Promise<string | number>>();
function once(key: string, make: () => Promise<string | number>) {
  if (!made.has(key)) made.set(key, make());
  return made.get(key)!;
}
const tag = () => randomBytes(4).toString('hex');

async function newUser(ctx: FixtureContext): Promise<number> {
  const u = await ctx.t
    .get<AuthService>(AuthService)
    .createUser({ email: `mx-${tag()}@example.com`, name: 'Matrix person', password: DEMO_PASSWORD });
  return u.id;
}

/** A member (operator) of the tenant: the one shared per tenant, or a new one when the call removes it. */
async function member(ctx: FixtureContext): Promise<number> {
  const make = async () => {
    const id = await newUser(ctx);
    await ctx.t.get<TenantsService>(TenantsService).addMember(ctx.tenant.id, id, 'operator', { id: null });
    return id;
  };
  return Number(ctx.fresh ? await make() : await once(`member|${ctx.tenant.id}`, make));
}

/** The kinds the people pages name: tenants by slug, members, invitations, users. */
export const matrixFixtures: MatrixFixtures = {
  // Platform routes name a tenant by slug; archive/restore get a tenant of their own.
  tenant_slug: {
    owner: 'none',
    make: async (ctx) => {
      if (!ctx.fresh) return ctx.tenant.slug;
      const slug = `mx-${tag()}`;
      await ctx.t
        .get<TenantsService>(TenantsService)
        .create({ slug, name: `Matrix ${slug}`, microsoftTenantId: null, notes: null }, { id: null });
      return slug;
    },
  },
  member: { owner: 'tenant', make: member },
  invitation: {
    owner: 'tenant',
    make: async (ctx) => {
      const email = `mx-${tag()}@example.com`;
      await ctx.t
        .get<AccountsService>(AccountsService)
        .invite(ctx.tenant.id, email, 'readonly', { id: null });
      const [row] = await ctx.t.dataSource.query('SELECT id FROM invitations WHERE email = ?', [email]);
      return Number(row.id);
    },
  },
  // The public /invite/:token pages: a real link's token.
  invitation_token: {
    owner: 'none',
    make: async (ctx) => {
      const link = await ctx.t
        .get<AccountsService>(AccountsService)
        .invite(ctx.tenant.id, `mx-${tag()}@example.com`, 'readonly', { id: null });
      return link.url.split('/invite/')[1];
    },
  },
  user: {
    owner: 'none',
    make: (ctx) => (ctx.fresh ? newUser(ctx) : once('user', () => newUser(ctx))),
  },
};
