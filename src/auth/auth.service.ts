import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import bcrypt from 'bcryptjs';
import { createHash, randomBytes } from 'node:crypto';
import { IsNull, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TenantsService } from '../tenants/tenants.service';
import { Principal } from './ability.factory';
import { ApiToken } from './api-token.entity';
import { normalizeEmail } from './email';
import { User } from './user.entity';

const TOKEN_PREFIX = 'ohub_';

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

@Injectable()
export class AuthService {
  /** Compared against when the e-mail is unknown, so timing does not reveal which accounts exist. */
  private readonly dummyHash: Promise<string>;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(ApiToken) private readonly tokens: Repository<ApiToken>,
    private readonly tenants: TenantsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.dummyHash = bcrypt.hash('not-a-real-password', config.bcryptRounds);
  }

  async createUser(input: { email: string; name: string; password: string; isOps?: boolean }): Promise<User> {
    const passwordHash = await bcrypt.hash(input.password, this.config.bcryptRounds);
    const email = normalizeEmail(input.email);
    const result = await this.users.insert({
      email,
      name: input.name,
      passwordHash,
      isOps: input.isOps ?? false,
      createdAt: new Date(),
    });
    return this.users.findOneOrFail({ where: { id: Number(result.identifiers[0].id) } });
  }

  /** The user for a correct e-mail + password pair, else null. */
  async verifyPassword(email: string, password: string): Promise<User | null> {
    const user = await this.users.findOne({
      where: { email: normalizeEmail(email) },
      select: { id: true, email: true, name: true, isOps: true, passwordHash: true, createdAt: true },
    });
    const ok = await bcrypt.compare(password, user?.passwordHash ?? (await this.dummyHash));
    return user && ok ? user : null;
  }

  async principalFor(userId: number): Promise<Principal | null> {
    const user = await this.users.findOne({ where: { id: userId } });
    if (!user) return null;
    const memberships = await this.tenants.membershipsOf(user.id);
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      isOps: user.isOps,
      memberships: memberships.map((m) => ({ tenantId: m.id, slug: m.slug, name: m.name, role: m.role })),
    };
  }

  /** Creates a personal API token; the plaintext is returned once and only its hash is stored. */
  async createToken(userId: number, name: string): Promise<{ token: string; id: number }> {
    const token = TOKEN_PREFIX + randomBytes(24).toString('base64url');
    const result = await this.tokens.insert({
      userId,
      name,
      tokenHash: sha256(token),
      tokenPrefix: token.slice(0, TOKEN_PREFIX.length + 6),
      createdAt: new Date(),
      lastUsedAt: null,
      revokedAt: null,
    });
    return { token, id: Number(result.identifiers[0].id) };
  }

  async userIdForToken(token: string): Promise<number | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
    const row = await this.tokens.findOne({ where: { tokenHash: sha256(token), revokedAt: IsNull() } });
    if (!row) return null;
    // Coarse last-used stamp: one write per token per minute at most, not one per request.
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      await this.tokens.update({ id: row.id }, { lastUsedAt: new Date() });
    }
    return row.userId;
  }

  listTokens(userId: number): Promise<ApiToken[]> {
    return this.tokens.find({ where: { userId }, order: { id: 'DESC' } });
  }

  async revokeToken(userId: number, tokenId: number): Promise<boolean> {
    const result = await this.tokens.update(
      { id: tokenId, userId, revokedAt: IsNull() },
      { revokedAt: new Date() },
    );
    return (result.affected ?? 0) > 0;
  }

  async userCount(): Promise<number> {
    return this.users.count();
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findOne({ where: { email: normalizeEmail(email) } });
  }
}
