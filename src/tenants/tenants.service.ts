import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Membership, Role } from './membership.entity';
import { Tenant } from './tenant.entity';

export interface TenantMembership {
  id: number;
  slug: string;
  name: string;
  role: Role;
}

@Injectable()
export class TenantsService {
  constructor(
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    @InjectRepository(Membership) private readonly memberships: Repository<Membership>,
  ) {}

  /** The tenants a user may see, with their role in each, in a stable order for the switcher. */
  async membershipsOf(userId: number): Promise<TenantMembership[]> {
    const rows = await this.memberships.find({
      where: { userId },
      relations: { tenant: true },
      order: { tenantId: 'ASC' },
    });
    return rows
      .filter((m) => m.tenant)
      .map((m) => ({ id: m.tenant!.id, slug: m.tenant!.slug, name: m.tenant!.name, role: m.role }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  findBySlug(slug: string): Promise<Tenant | null> {
    return this.tenants.findOne({ where: { slug } });
  }

  findById(id: number): Promise<Tenant | null> {
    return this.tenants.findOne({ where: { id } });
  }

  /** The tenant a run belongs to; an error when it was deleted meanwhile. */
  async requireById(id: number): Promise<Tenant> {
    const tenant = await this.findById(id);
    if (!tenant) throw new Error(`tenant ${id} no longer exists`);
    return tenant;
  }

  async all(): Promise<Tenant[]> {
    return this.tenants.find({ order: { id: 'ASC' } });
  }

  async count(): Promise<number> {
    return this.tenants.count();
  }

  async create(slug: string, name: string): Promise<Tenant> {
    const result = await this.tenants.insert({ slug, name, createdAt: new Date() });
    return { id: Number(result.identifiers[0].id), slug, name, createdAt: new Date() };
  }

  async addMember(tenantId: number, userId: number, role: Role): Promise<void> {
    await this.memberships.insert({ tenantId, userId, role, createdAt: new Date() });
  }

  async removeMember(tenantId: number, userId: number): Promise<void> {
    await this.memberships.delete({ tenantId, userId });
  }
}
