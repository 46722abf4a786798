import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import bcrypt from 'bcryptjs';
import { createHash, randomBytes } from 'node:crypto';
import { AuditService } from '../audit';
import { AppError } from '../common/app-error';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Db, type Sql } from '../database/db';
import { Dialect } from '../database/dialect';
import { type Actor, isRole, type Role, ROLES, type Tenant, TenantsService } from '../tenants';
import { normalizeEmail } from './email';
import { type Invitation, InvitationsRepository, type InvitationPurpose } from './invitations.repository';
import { Mailer } from './mailer';
import { SessionsService } from './sessions.service';
import type { User } from './user';
import { UsersRepository } from './users.repository';

/** Invitation and set-password links are valid this long. */
export const LINK_DAYS = 7;
const LINK_MS = LINK_DAYS * 24 * 3600_000;
const PRUNE_AFTER_MS = 30 * 24 * 3600_000;
/** bcrypt reads at most 72 bytes: a longer password would be silently cut. */
const PASSWORD_MAX_BYTES = 72;
const PASSWORD_MIN = 10;
const EMAIL = /^[^\s@<>()",;:\\[\]]{1,64}@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]{2,}$/u;

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** A link made for someone: the token is in it, shown once (and mailed); only its hash is kept. */
export interface IssuedLink {
  url: string;
  expiresAt: Date;
  mailed: boolean;
}

/** What a link is, as the page that opens it shows it; the token itself is never part of it. */
export type LinkState =
  | {
      state: 'valid';
      invitation: Invitation;
      tenant: Tenant | null;
      /** The account it is for, when one exists (they confirm with their password). */
      user: User | null;
    }
  | { state: 'expired' | 'used' | 'unknown' };

export interface AcceptInput {
  name?: unknown;
  password?: unknown;
  password_confirmation?: unknown;
}

/**
 * People: accounts, passwords, invitations and set-password links, deactivation and platform admins.
 * Every change is one audit entry with no secret in it. Used by the web pages and by the CLI.
 */
@Injectable()
export class AccountsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Accounts');
  private pruner: NodeJS.Timeout | undefined;

  constructor(
    private readonly users: UsersRepository,
    private readonly invitations: InvitationsRepository,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly sessions: SessionsService,
    private readonly mailer: Mailer,
    private readonly db: Db,
    private readonly dialect: Dialect,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Links used or expired a month ago are of no use, not even to say "used": they are deleted. */
  onModuleInit(): void {
    if (!this.config.runsWeb) return;
    const prune = () =>
      void this.invitations
        .prune(new Date(Date.now() - PRUNE_AFTER_MS))
        .catch((e) => this.logger.warn({ err: e }, 'could not prune invitations'));
    prune();
    this.pruner = setInterval(prune, 3600_000).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.pruner);
  }

  get mailEnabled(): boolean {
    return this.mailer.enabled;
  }

  /**
   * The first platform admin (or another one), from the command line: an account with no usable
   * password and a set-password link for it.
   */
  async createAdmin(rawEmail: string, rawName?: string): Promise<{ user: User; link: IssuedLink }> {
    const email = this.checkEmail(rawEmail);
    if (await this.users.byEmail(email))
      throw AppError.badRequest(`${email} has an account already: use reset-password to send it a new link.`);
    const name = (rawName ?? '').trim() || email.split('@')[0];
    const unusable = await bcrypt.hash(randomBytes(32).toString('hex'), this.config.bcryptRounds);
    const createdAt = new Date();
    let id: number;
    try {
      id = await this.users.insert({ email, name, passwordHash: unusable, isOps: true }, createdAt);
    } catch (e) {
      if (this.dialect.isUniqueViolation(e)) throw AppError.badRequest(`${email} has an account already.`);
      throw e;
    }
    const user = (await this.users.byId(id))!;
    await this.audit.record({
      actorId: null,
      tenantId: null,
      action: 'user.created',
      subject: { type: 'user', id, label: email },
      after: { email, name, platform_admin: true },
      detail: 'Created from the command line as a platform admin',
    });
    const link = await this.issue(
      { email, purpose: 'password', tenantId: null, role: null, userId: id },
      null,
    );
    return { user, link };
  }

  /** A new set-password link for an account (earlier unused ones stop working). */
  async resetPassword(rawEmail: string, actor: Actor): Promise<IssuedLink> {
    const email = normalizeEmail(rawEmail);
    const user = await this.users.byEmail(email);
    if (!user) throw AppError.badRequest(`No account has the e-mail ${email}.`);
    if (user.deactivatedAt)
      throw AppError.invalid({ user: `${email} is deactivated: reactivate the account first.` });
    const link = await this.issue(
      { email, purpose: 'password', tenantId: null, role: null, userId: user.id },
      actor.id,
    );
    await this.audit.record({
      actorId: actor.id,
      tenantId: null,
      action: 'user.password_reset_issued',
      subject: { type: 'user', id: user.id, label: email },
      detail: `A set-password link valid for ${LINK_DAYS} days`,
    });
    return link;
  }

  /** Invites someone to a tenant with a role; refused readably for a member or a bad address or role. */
  async invite(tenantId: number, rawEmail: unknown, rawRole: unknown, actor: Actor): Promise<IssuedLink> {
    const errors: Record<string, string> = {};
    let email = '';
    try {
      email = this.checkEmail(rawEmail);
    } catch (e) {
      errors.email = (e as Error).message;
    }
    if (!isRole(rawRole)) errors.role = `Choose one of the roles: ${ROLES.join(', ')}.`;
    const tenant = await this.tenants.findById(tenantId);
    if (!tenant) throw AppError.notFound('Tenant');
    if (!errors.email) {
      const existing = await this.users.byEmail(email);
      if (existing && (await this.tenants.roleOf(tenantId, existing.id)))
        errors.email = `${email} is already a member of ${tenant.name}.`;
      else if (existing?.deactivatedAt)
        errors.email = `The account ${email} is deactivated: a platform admin must reactivate it first.`;
    }
    if (Object.keys(errors).length) throw AppError.invalid(errors);
    const role = rawRole as Role;
    const link = await this.issue({ email, purpose: 'invite', tenantId, role, userId: null }, actor.id, {
      subject: `You are invited to ${tenant.name} on the Tenant Operations Hub`,
      lead: `You have been invited to ${tenant.name} as ${role}.`,
    });
    await this.audit.record({
      actorId: actor.id,
      tenantId,
      action: 'member.invited',
      subject: { type: 'invitation', id: null, label: email },
      after: { email, role },
      detail: link.mailed ? 'Link sent by e-mail' : 'Link shown to the inviter',
    });
    return link;
  }

  pendingInvitations(tenantId: number): Promise<Invitation[]> {
    return this.invitations.pending(tenantId, new Date());
  }

  async revokeInvitation(tenantId: number, id: number, actor: Actor): Promise<void> {
    const inv = await this.invitations.revoke(tenantId, id, new Date());
    if (!inv) throw AppError.notFound('Invitation');
    await this.audit.record({
      actorId: actor.id,
      tenantId,
      action: 'member.invitation_revoked',
      subject: { type: 'invitation', id, label: inv.email },
      before: { email: inv.email, role: inv.role },
    });
  }

  /** What a link is, for the page that opens it. */
  async inspect(token: string): Promise<LinkState> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return { state: 'unknown' };
    const inv = await this.invitations.byHash(sha256(token));
    if (!inv) return { state: 'unknown' };
    if (inv.usedAt) return { state: 'used' };
    if (inv.expiresAt.getTime() <= Date.now()) return { state: 'expired' };
    const tenant = inv.tenantId === null ? null : await this.tenants.findById(inv.tenantId);
    if (inv.purpose === 'invite' && !tenant) return { state: 'unknown' };
    const user =
      inv.purpose === 'password' ? await this.users.byId(inv.userId!) : await this.users.byEmail(inv.email);
    if (user?.deactivatedAt) return { state: 'unknown' };
    return { state: 'valid', invitation: inv, tenant, user };
  }

  /**
   * Uses a link: sets the password of its account, or creates the invited account (or, for an existing
   * one, checks its password) and adds the membership. All in one transaction that first marks the link
   * used, so of any number of tries at once exactly one succeeds. Returns the signed-in user's id and
   * where to send them.
   */
  async accept(token: string, input: AcceptInput): Promise<{ userId: number; next: string }> {
    const link = await this.inspect(token);
    if (link.state !== 'valid') throw new LinkError(link.state);
    const { invitation: inv, tenant, user } = link;
    const password = typeof input.password === 'string' ? input.password : '';
    let passwordHash: string | null = null;
    let name = '';
    if (inv.purpose === 'invite' && user) {
      // An existing account joins with its own password, not a new one.
      const current = await this.users.passwordHashOf(user.id);
      if (!password || !current || !(await bcrypt.compare(password, current)))
        throw AppError.invalid({ password: 'That is not the password of this account.' });
    } else {
      name = typeof input.name === 'string' ? input.name.trim() : (user?.name ?? '');
      const errors = this.checkNewPassword(password, input.password_confirmation);
      if (!user && (!name || name.length > 120))
        errors.name = 'Give your name (1 to 120 characters), as colleagues will see it.';
      if (user && name.length > 120) errors.name = 'A name has at most 120 characters.';
      if (Object.keys(errors).length) throw AppError.invalid(errors);
      passwordHash = await bcrypt.hash(password, this.config.bcryptRounds);
    }
    const now = new Date();
    const label = user?.email ?? inv.email;
    const userId = await this.db.transaction(async (tx) => {
      if (!(await this.invitations.consume(inv.id, now, tx))) throw new LinkError('used');
      let id = user?.id;
      if (id === undefined) {
        try {
          id = await this.users.insert(
            { email: inv.email, name, passwordHash: passwordHash!, isOps: false },
            now,
            tx,
          );
        } catch (e) {
          // Another invitation for this address was accepted a moment ago.
          if (this.dialect.isUniqueViolation(e)) throw new LinkError('used');
          throw e;
        }
      } else if (passwordHash) {
        await this.users.setPassword(id, passwordHash, tx);
        if (name) await this.users.setName(id, name, tx);
      }
      if (inv.purpose === 'invite') await this.tenants.insertMember(tx, tenant!.id, id, inv.role!, label);
      return id;
    });
    if (user && name) await this.users.namesChanged([userId]);
    // Announced again now that the new password is committed (the first one was from inside).
    if (user && passwordHash) await this.users.authChanged([userId]);
    if (inv.purpose === 'invite') {
      await this.tenants.memberJoined(tenant!.id, userId, inv.role!, { id: userId }, label);
      return { userId, next: `/admin/t/${tenant!.slug}/operations` };
    }
    // A new password ends every session the account had: whoever knew the old one is out.
    await this.sessions.endSessionsOf(userId);
    await this.audit.record({
      actorId: userId,
      tenantId: null,
      action: 'user.password_set',
      subject: { type: 'user', id: userId, label },
      detail: 'With a set-password link',
    });
    return { userId, next: '/admin' };
  }

  /** Changes one's own password; every other session of the account ends. */
  async changePassword(
    userId: number,
    input: { current_password?: unknown; password?: unknown; password_confirmation?: unknown },
    keepSessionId: string | undefined,
  ): Promise<void> {
    const current = typeof input.current_password === 'string' ? input.current_password : '';
    const password = typeof input.password === 'string' ? input.password : '';
    const hash = await this.users.passwordHashOf(userId);
    const errors = this.checkNewPassword(password, input.password_confirmation);
    if (!current || !hash || !(await bcrypt.compare(current, hash)))
      errors.current_password = 'That is not your current password.';
    else if (!errors.password && password === current)
      errors.password = 'The new password is the one you have now.';
    if (Object.keys(errors).length) throw AppError.invalid(errors);
    await this.users.setPassword(userId, await bcrypt.hash(password, this.config.bcryptRounds));
    await this.sessions.endSessionsOf(userId, keepSessionId);
    const user = await this.users.byId(userId);
    await this.audit.record({
      actorId: userId,
      tenantId: null,
      action: 'user.password_changed',
      subject: { type: 'user', id: userId, label: user?.email ?? `user #${userId}` },
      detail: 'Other sessions ended',
    });
  }

  search(q: string, limit: number, after?: string): Promise<User[]> {
    return this.users.search(q.trim().slice(0, 190), limit, after);
  }

  async get(id: number): Promise<User> {
    const user = await this.users.byId(id);
    if (!user) throw AppError.notFound('User');
    return user;
  }

  usersByIds(ids: number[]): Promise<User[]> {
    return this.users.byIds(ids);
  }

  /**
   * Deactivates an account: it cannot sign in, its open sessions end and its API tokens are refused
   * from the very next request. Never one's own account, never the platform's last admin.
   */
  async deactivate(id: number, actor: Actor): Promise<boolean> {
    if (actor.id === id)
      throw AppError.invalid({ user: 'You cannot deactivate your own account: ask another platform admin.' });
    const user = await this.get(id);
    const changed = await this.db.transaction(async (tx) => {
      if (user.isOps) await this.keepAnAdmin(tx, id, `${user.email} is the last active platform admin`);
      return this.users.setDeactivated(id, new Date(), tx);
    });
    await this.users.authChanged([id]);
    await this.sessions.endSessionsOf(id);
    if (!changed) return false;
    await this.audit.record({
      actorId: actor.id,
      tenantId: null,
      action: 'user.deactivated',
      subject: { type: 'user', id, label: user.email },
      before: { active: true },
      after: { active: false },
      detail: 'Sessions ended and API tokens refused',
    });
    return true;
  }

  async reactivate(id: number, actor: Actor): Promise<boolean> {
    const user = await this.get(id);
    if (!(await this.users.setDeactivated(id, null))) return false;
    await this.audit.record({
      actorId: actor.id,
      tenantId: null,
      action: 'user.reactivated',
      subject: { type: 'user', id, label: user.email },
      before: { active: false },
      after: { active: true },
    });
    return true;
  }

  /** Makes or unmakes a platform admin; the platform always keeps one active admin. */
  async setPlatformAdmin(id: number, isOps: boolean, actor: Actor): Promise<boolean> {
    const user = await this.get(id);
    if (isOps && user.deactivatedAt)
      throw AppError.invalid({ user: `${user.email} is deactivated: reactivate the account first.` });
    const changed = await this.db.transaction(async (tx) => {
      if (!isOps) await this.keepAnAdmin(tx, id, `${user.email} is the last active platform admin`);
      return this.users.setOps(id, isOps, tx);
    });
    if (!changed) return false;
    await this.users.authChanged([id]);
    await this.audit.record({
      actorId: actor.id,
      tenantId: null,
      action: isOps ? 'user.admin_granted' : 'user.admin_revoked',
      subject: { type: 'user', id, label: user.email },
      before: { platform_admin: !isOps },
      after: { platform_admin: isOps },
    });
    return true;
  }

  private async keepAnAdmin(tx: Sql, id: number, why: string) {
    const admins = await this.users.lockActiveAdmins(tx);
    if (admins.includes(id) && admins.length <= 1)
      throw AppError.invalid({ user: `${why}: make someone else a platform admin first.` });
  }

  private checkEmail(raw: unknown): string {
    const email = typeof raw === 'string' ? normalizeEmail(raw) : '';
    if (!email || email.length > 190 || !EMAIL.test(email))
      throw AppError.badRequest('Enter an e-mail address such as name@example.com.');
    return email;
  }

  private checkNewPassword(password: string, confirmation: unknown): Record<string, string> {
    const errors: Record<string, string> = {};
    if (password.length < PASSWORD_MIN)
      errors.password = `Choose a password of at least ${PASSWORD_MIN} characters.`;
    else if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES)
      errors.password = `A password may be at most ${PASSWORD_MAX_BYTES} bytes long (fewer with accents or emoji).`;
    else if (confirmation !== password) errors.password_confirmation = 'The two passwords differ.';
    return errors;
  }

  private async issue(
    i: {
      email: string;
      purpose: InvitationPurpose;
      tenantId: number | null;
      role: Role | null;
      userId: number | null;
    },
    invitedBy: number | null,
    mail?: { subject: string; lead: string },
  ): Promise<IssuedLink> {
    const token = randomBytes(32).toString('base64url');
    const createdAt = new Date();
    const expiresAt = new Date(createdAt.getTime() + LINK_MS);
    await this.db.transaction(async (tx) => {
      await this.invitations.supersede(i.email, i.purpose, i.tenantId, createdAt, tx);
      await this.invitations.insert({ ...i, invitedBy, createdAt, expiresAt, tokenHash: sha256(token) }, tx);
    });
    const url = `${this.config.publicUrl}/invite/${token}`;
    const mailed = await this.mailer.send({
      to: i.email,
      subject: mail?.subject ?? 'Set your password for the Tenant Operations Hub',
      text: [
        mail?.lead ?? 'Use this link to set the password of your account.',
        '',
        url,
        '',
        `The link works once and expires on ${expiresAt.toUTCString()}.`,
        'If you did not expect this e-mail, ignore it.',
      ].join('\n'),
    });
    return { url, expiresAt, mailed };
  }
}

/** A link that cannot be used (any more): the page says which and what to do. */
export class LinkError extends AppError {
  constructor(readonly state: 'expired' | 'used' | 'unknown') {
    super(state === 'unknown' ? 'not_found' : 'gone', LINK_MESSAGES[state]);
    this.name = 'LinkError';
  }
}

export const LINK_MESSAGES: Record<'expired' | 'used' | 'unknown', string> = {
  unknown:
    'This link is not valid. Check that you copied all of it, or ask the person who sent it for a new one.',
  expired: `This link has expired (links work for ${LINK_DAYS} days). Ask the person who sent it for a new one.`,
  used: 'This link has been used already. If that was you, sign in; otherwise ask for a new link.',
};
