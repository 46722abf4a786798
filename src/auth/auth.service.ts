import { Inject, Injectable } from '@nestjs/common';
import bcrypt from 'bcryptjs';
import { createHash, randomBytes } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AuditService } from '../audit';
import { OnEvent } from '@nestjs/event-emitter';
import { ACCESS_CHANGED, type AccessChanged, TenantsService } from '../tenants';
import { Principal } from './ability.factory';
import { normalizeEmail } from './email';
import { AppError } from '../common/app-error';
import { canonicalTimeZone } from '../web';
import { ApiToken, THEMES, User } from './user';
import { type AuthState, UsersRepository } from './users.repository';

const TOKEN_PREFIX = 'ohub_';
/** A principal is re-read at least this often even when nothing says it changed. */
const PRINCIPAL_TTL_MS = 60_000;
const PRINCIPAL_CACHE_SIZE = 10_000;

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Users, passwords, personal API tokens, and who a signed-in request is. */
@Injectable()
export class AuthService {
  /** Compared against when the e-mail is unknown, so timing does not reveal which accounts exist. */
  private readonly dummyHash: Promise<string>;
  /** Signed-in principals of this process by user id, with the auth version they were read at. */
  private readonly principals = new Map<number, { principal: Principal; version: number; at: number }>();

  constructor(
    private readonly users: UsersRepository,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.dummyHash = bcrypt.hash('not-a-real-password', config.bcryptRounds);
  }

  async createUser(input: { email: string; name: string; password: string; isOps?: boolean }): Promise<User> {
    const passwordHash = await bcrypt.hash(input.password, this.config.bcryptRounds);
    const email = normalizeEmail(input.email);
    const createdAt = new Date();
    const id = await this.users.insert(
      { email, name: input.name, passwordHash, isOps: input.isOps ?? false },
      createdAt,
    );
    return (await this.users.byId(id))!;
  }

  /**
   * The user for a correct e-mail + password pair, else null. A deactivated account with the right
   * password is named as such (whoever typed it knows the account exists).
   */
  async verifyPassword(email: string, password: string): Promise<User | null> {
    const found = await this.users.withPasswordHash(normalizeEmail(email));
    const ok = await bcrypt.compare(password, found?.passwordHash ?? (await this.dummyHash));
    return found && ok ? found.user : null;
  }

  /** Stamps a sign-in, for the members and users pages. */
  signedIn(userId: number): Promise<void> {
    return this.users.touchSignIn(userId, new Date());
  }

  /**
   * Who a request's user is and where they belong; null for an unknown or deactivated account.
   * Checked on every request with one indexed read of the user's auth version, which every change to
   * their access moves on (role, membership, archive, deactivation, platform admin — in any process),
   * so a principal is reused only while nothing about it can have changed.
   */
  async principalFor(userId: number, known?: AuthState | null): Promise<Principal | null> {
    // The session or token read of this very request may already have brought the auth state along.
    const state = known ?? (await this.users.authState(userId));
    if (!state?.active) {
      this.principals.delete(userId);
      return null;
    }
    const hit = this.principals.get(userId);
    if (hit && hit.version === state.version && Date.now() - hit.at < PRINCIPAL_TTL_MS) return hit.principal;
    const principal = await this.loadPrincipal(userId);
    if (!principal) return null;
    if (this.principals.size >= PRINCIPAL_CACHE_SIZE)
      this.principals.delete(this.principals.keys().next().value!);
    this.principals.set(userId, { principal, version: state.version, at: Date.now() });
    return principal;
  }

  /** Memberships changed (a role, a removal, an archived tenant): their principals are renewed everywhere. */
  @OnEvent(ACCESS_CHANGED, { async: true, promisify: true })
  async onAccessChanged({ userIds }: AccessChanged): Promise<void> {
    await this.users.bumpAuthVersion(userIds);
    for (const id of userIds) this.principals.delete(id);
  }

  private async loadPrincipal(userId: number): Promise<Principal | null> {
    const user = await this.users.byId(userId);
    if (!user || user.deactivatedAt) return null;
    const memberships = await this.tenants.membershipsOf(user.id);
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      isOps: user.isOps,
      theme: user.theme,
      timezone: user.timezone,
      memberships: memberships.map((m) => ({
        tenantId: m.id,
        slug: m.slug,
        name: m.name,
        role: m.role,
        archived: m.archived,
      })),
    };
  }

  /**
   * The profile's display preferences. A time zone must be one Intl knows (an IANA name such as
   * Europe/Berlin); an empty one means UTC only. The cached principal is dropped so this process shows
   * them on the next page, and the auth version tells every other process.
   */
  async setPreferences(userId: number, input: { theme: unknown; timezone: unknown }): Promise<void> {
    const theme = THEMES.find((t) => t === input.theme);
    const zone = typeof input.timezone === 'string' ? input.timezone.trim() : '';
    const timezone = zone ? canonicalTimeZone(zone) : null;
    const errors: Record<string, string> = {};
    if (!theme) errors.theme = 'Choose System, Light or Dark.';
    if (zone && !timezone)
      errors.timezone = `"${zone.slice(0, 64)}" is not a time zone. Use an IANA name such as Europe/Berlin or America/New_York.`;
    if (Object.keys(errors).length) throw AppError.invalid(errors);
    await this.users.setPreferences(userId, { theme: theme!, timezone });
    this.principals.delete(userId);
  }

  /** Creates a personal API token; the plaintext is returned once and only its hash is stored. */
  async createToken(userId: number, name: string): Promise<{ token: string; id: number }> {
    const token = TOKEN_PREFIX + randomBytes(24).toString('base64url');
    const prefix = token.slice(0, TOKEN_PREFIX.length + 6);
    const id = await this.users.insertToken({ userId, name, hash: sha256(token), prefix }, new Date());
    await this.audit.record({
      actorId: userId,
      tenantId: null,
      action: 'token.created',
      subject: { type: 'api_token', id, label: name },
      after: { name, starts_with: `${prefix}…` },
    });
    return { token, id };
  }

  async userIdForToken(token: string): Promise<{ userId: number; state: AuthState } | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
    const row = await this.users.tokenByHash(sha256(token));
    if (!row) return null;
    // A deactivated owner's tokens are refused as revoked ones are.
    const state = await this.users.authState(row.userId);
    if (!state?.active) return null;
    // Coarse last-used stamp: one write per token per minute at most, not one per request.
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      const now = new Date();
      row.lastUsedAt = now; // the kept row too, so the next requests of this minute write nothing
      await this.users.touchToken(row.id, now);
    }
    return { userId: row.userId, state };
  }

  listTokens(userId: number): Promise<ApiToken[]> {
    return this.users.tokensOf(userId);
  }

  async revokeToken(userId: number, tokenId: number): Promise<boolean> {
    const token = (await this.users.tokensOf(userId)).find((t) => t.id === tokenId);
    if (!token || !(await this.users.revokeToken(userId, tokenId, new Date()))) return false;
    await this.audit.record({
      actorId: userId,
      tenantId: null,
      action: 'token.revoked',
      subject: { type: 'api_token', id: tokenId, label: token.name },
      before: { active: true },
      after: { active: false },
    });
    return true;
  }

  userCount(): Promise<number> {
    return this.users.count();
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.byEmail(normalizeEmail(email));
  }

  /** Display names by user id, for pages that show who started or changed something. */
  namesOf(ids: Array<number | null>): Promise<Map<number, string>> {
    return this.users.names(ids.filter((id): id is number => id !== null));
  }
}
