import { Injectable } from '@nestjs/common';
import { Role, Tenant, TenantMembership } from './tenant';
import { TenantsRepository } from './tenants.repository';

/** The tenants facade: finding tenants and who belongs to them. */
@Injectable()
export class TenantsService {
  constructor(private readonly repo: TenantsRepository) {}

  /** The tenants a user may see, with their role in each, in a stable order for the switcher. */
  async membershipsOf(userId: number): Promise<TenantMembership[]> {
    return (await this.repo.membershipsOf(userId)).sort((a, b) => a.name.localeCompare(b.name));
  }

  findBySlug(slug: string): Promise<Tenant | null> {
    return this.repo.bySlug(slug);
  }

  findById(id: number): Promise<Tenant | null> {
    return this.repo.byId(id);
  }

  /** The tenant a run belongs to; an error when it was deleted meanwhile. */
  async requireById(id: number): Promise<Tenant> {
    const tenant = await this.repo.byId(id);
    if (!tenant) throw new Error(`tenant ${id} no longer exists`);
    return tenant;
  }

  all(): Promise<Tenant[]> {
    return this.repo.all();
  }

  count(): Promise<number> {
    return this.repo.count();
  }

  async create(slug: string, name: string): Promise<Tenant> {
    const createdAt = new Date();
    return { id: await this.repo.insert(slug, name, createdAt), slug, name, createdAt };
  }

  addMember(tenantId: number, userId: number, role: Role): Promise<void> {
    return this.repo.insertMembership(tenantId, userId, role, new Date());
  }

  removeMember(tenantId: number, userId: number): Promise<void> {
    return this.repo.deleteMembership(tenantId, userId);
  }
}
