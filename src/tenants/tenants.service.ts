import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AuditService } from '../audit';
import { AppError } from '../common/app-error';
import { Db, type Sql } from '../database/db';
import { Dialect } from '../database/dialect';
import {
  isRole,
  Member,
  PolicySourceName,
  Role,
  ROLES,
  Tenant,
  TenantInput,
  TenantMembership,
} from './tenant';
import { TenantsRepository } from './tenants.repository';

/** Who did it, for the audit log. */
export interface Actor {
  id: number | null;
}

/** Emitted (and awaited) when what some users may see or do changed, so cached principals are renewed. */
export const ACCESS_CHANGED = 'tenants.access_changed';
export interface AccessChanged {
  userIds: number[];
}

const SLUG = /^[a-z0-9-]{2,40}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{4,190}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** The tenants facade: tenants, who belongs to them, and the rules that keep them usable. */
@Injectable()
export class TenantsService {
  constructor(
    private readonly repo: TenantsRepository,
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly audit: AuditService,
    private readonly events: EventEmitter2,
  ) {}

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

  /** A tenant by slug, or not-found. */
  async get(slug: string): Promise<Tenant> {
    const tenant = await this.repo.bySlug(slug);
    if (!tenant) throw AppError.notFound('Tenant');
    return tenant;
  }

  all(): Promise<Tenant[]> {
    return this.repo.all();
  }

  count(): Promise<number> {
    return this.repo.count();
  }

  /** Creates a tenant; its creator (when a user) becomes its first owner, so it can invite others. */
  async create(input: TenantInput, actor: Actor): Promise<Tenant> {
    const t = await this.validate(input);
    const createdAt = new Date();
    const id = await this.db.transaction(async (tx) => {
      const id = await this.repo.insert(t, createdAt, tx).catch((e) => this.refuseDuplicate(e, t));
      if (actor.id !== null) await this.repo.insertMembership(id, actor.id, 'owner', createdAt, tx);
      return id;
    });
    const tenant = (await this.repo.byId(id))!;
    await this.record(actor, tenant, 'tenant.created', undefined, describe(tenant));
    if (actor.id !== null) await this.accessChanged([actor.id]);
    return tenant;
  }

  async update(id: number, input: Omit<TenantInput, 'slug'>, actor: Actor): Promise<Tenant> {
    const before = await this.require(id);
    const t = await this.validate({ ...input, slug: before.slug }, before.id);
    await this.repo.update(id, t).catch((e) => this.refuseDuplicate(e, t));
    const after = (await this.repo.byId(id))!;
    await this.record(actor, after, 'tenant.updated', describe(before), describe(after));
    await this.accessChanged((await this.repo.members(id)).map((m) => m.userId));
    return after;
  }

  async setPolicySource(id: number, source: PolicySourceName, actor: Actor): Promise<void> {
    const before = await this.require(id);
    if (before.policySource === source) return;
    await this.repo.setPolicySource(id, source);
    await this.record(
      actor,
      before,
      'tenant.source_changed',
      { policy_source: before.policySource },
      { policy_source: source },
    );
  }

  /**
   * Archives or restores a tenant. Two admins doing it at once: one does it, the other learns it was
   * done already (false), and the log holds one entry.
   */
  async setArchived(id: number, archived: boolean, actor: Actor): Promise<boolean> {
    const tenant = await this.require(id);
    if (!(await this.repo.setArchived(id, archived, new Date()))) return false;
    await this.record(
      actor,
      tenant,
      archived ? 'tenant.archived' : 'tenant.restored',
      { archived: !archived },
      { archived },
    );
    await this.accessChanged((await this.repo.members(id)).map((m) => m.userId));
    return true;
  }

  /** How many members each tenant has, by tenant id. */
  memberCounts(): Promise<Map<number, number>> {
    return this.repo.memberCounts();
  }

  members(tenantId: number): Promise<Member[]> {
    return this.repo.members(tenantId);
  }

  roleOf(tenantId: number, userId: number): Promise<Role | null> {
    return this.repo.roleOf(tenantId, userId);
  }

  /** Adds a member; refused (readably) when they are one already. */
  async addMember(
    tenantId: number,
    userId: number,
    role: Role,
    actor: Actor,
    label = `user #${userId}`,
  ): Promise<void> {
    await this.insertMember(this.db, tenantId, userId, role, label);
    await this.memberJoined(tenantId, userId, role, actor, label);
  }

  /**
   * The membership row alone, inside a caller's transaction (accepting an invitation creates the
   * account and the membership together); follow with memberJoined once it committed.
   */
  async insertMember(tx: Sql, tenantId: number, userId: number, role: Role, label: string): Promise<void> {
    if (!isRole(role)) throw AppError.invalid({ role: `Choose one of the roles: ${ROLES.join(', ')}.` });
    const tenant = await this.require(tenantId, tx);
    try {
      await this.repo.insertMembership(tenantId, userId, role, new Date(), tx);
    } catch (e) {
      if (this.dialect.isUniqueViolation(e))
        throw AppError.badRequest(`${label} is already a member of ${tenant.name}.`);
      throw e;
    }
  }

  async memberJoined(
    tenantId: number,
    userId: number,
    role: Role,
    actor: Actor,
    label: string,
  ): Promise<void> {
    await this.audit.record({
      actorId: actor.id,
      tenantId,
      action: 'member.joined',
      subject: { type: 'user', id: userId, label },
      after: { role },
    });
    await this.accessChanged([userId]);
  }

  /** Changes a member's role; a tenant always keeps at least one owner. */
  async changeRole(tenantId: number, userId: number, role: Role, actor: Actor, label: string): Promise<void> {
    const before = await this.db.transaction(async (tx) => {
      const current = await this.repo.roleOf(tenantId, userId, tx);
      if (!current) throw AppError.notFound('Member');
      if (!isRole(role)) throw AppError.invalid({ role: `Choose one of the roles: ${ROLES.join(', ')}.` });
      if (current === role) return current;
      const owners = await this.repo.lockOwners(tx, tenantId);
      if (current === 'owner' && owners.length <= 1)
        throw AppError.invalid({ role: `${label} is the last owner: make someone else an owner first.` });
      await this.repo.setRole(tx, tenantId, userId, role);
      return current;
    });
    if (before === role) return;
    await this.audit.record({
      actorId: actor.id,
      tenantId,
      action: 'member.role_changed',
      subject: { type: 'user', id: userId, label },
      before: { role: before },
      after: { role },
    });
    await this.accessChanged([userId]);
  }

  /** Removes a member; never the last owner. */
  async removeMember(tenantId: number, userId: number, actor: Actor, label: string): Promise<void> {
    const before = await this.db.transaction(async (tx) => {
      const current = await this.repo.roleOf(tenantId, userId, tx);
      if (!current) throw AppError.notFound('Member');
      const owners = await this.repo.lockOwners(tx, tenantId);
      if (current === 'owner' && owners.length <= 1)
        throw AppError.invalid({
          remove: `${label} is the last owner of this tenant: make someone else an owner first.`,
        });
      await this.repo.deleteMembership(tenantId, userId, tx);
      return current;
    });
    await this.audit.record({
      actorId: actor.id,
      tenantId,
      action: 'member.removed',
      subject: { type: 'user', id: userId, label },
      before: { role: before },
    });
    await this.accessChanged([userId]);
  }

  private async require(id: number, db: Sql = this.db): Promise<Tenant> {
    const t = await this.repo.byId(id, db);
    if (!t) throw AppError.notFound('Tenant');
    return t;
  }

  /** Field by field, so the form shows each message beside its input. */
  private async validate(input: TenantInput, self?: number): Promise<TenantInput> {
    const t: TenantInput = {
      slug: (input.slug ?? '').trim(),
      name: (input.name ?? '').trim(),
      microsoftTenantId: (input.microsoftTenantId ?? '').trim().toLowerCase() || null,
      notes: (input.notes ?? '').trim() || null,
    };
    const errors: Record<string, string> = {};
    if (!SLUG.test(t.slug))
      errors.slug = 'A slug is 2 to 40 lower-case letters, digits or hyphens (it is part of every address).';
    if (!t.name || t.name.length > 120)
      errors.name = 'Give the tenant a display name of 1 to 120 characters.';
    if (t.microsoftTenantId && !GUID.test(t.microsoftTenantId) && !DOMAIN.test(t.microsoftTenantId))
      errors.microsoft_tenant_id =
        'The Microsoft tenant id is a GUID (00000000-0000-0000-0000-000000000000) or a verified domain (contoso.onmicrosoft.com).';
    if (t.notes && t.notes.length > 1000) errors.notes = 'Notes may hold at most 1,000 characters.';
    if (!errors.slug && self === undefined && (await this.repo.bySlug(t.slug)))
      errors.slug = `The slug "${t.slug}" is taken by another tenant.`;
    if (!errors.microsoft_tenant_id && t.microsoftTenantId) {
      const other = await this.repo.byMicrosoftId(t.microsoftTenantId);
      if (other && other.id !== self)
        errors.microsoft_tenant_id = `This Microsoft tenant is already connected as "${other.name}".`;
    }
    if (Object.keys(errors).length) throw AppError.invalid(errors);
    return t;
  }

  /** A unique violation the checks above could not see (two requests at once): the same readable refusal. */
  private refuseDuplicate(e: unknown, t: TenantInput): never {
    if (this.dialect.isUniqueViolation(e))
      throw AppError.invalid({
        slug: `The slug "${t.slug}" or this Microsoft tenant id is taken by another tenant.`,
      });
    throw e;
  }

  private record(
    actor: Actor,
    tenant: Tenant,
    action: string,
    before: unknown,
    after: unknown,
  ): Promise<void> {
    return this.audit.record({
      actorId: actor.id,
      tenantId: tenant.id,
      action,
      subject: { type: 'tenant', id: tenant.id, label: tenant.name },
      before,
      after,
    });
  }

  private async accessChanged(userIds: number[]): Promise<void> {
    if (userIds.length) await this.events.emitAsync(ACCESS_CHANGED, { userIds } satisfies AccessChanged);
  }
}

function describe(t: Tenant) {
  return { slug: t.slug, name: t.name, microsoft_tenant_id: t.microsoftTenantId, notes: t.notes };
}
