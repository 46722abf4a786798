import { Command, CommandRunner, Option } from 'nest-commander';
import { AccountsService, AuthService, LINK_DAYS } from '../auth';
import { AppError } from '../common/app-error';
import { GraphConnectionsService } from '../graph';
import { TenantsService } from '../tenants';

/** What the command line does as: the system, named as such in the audit log. */
const CLI = { id: null };

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface EmailOption {
  email?: string;
  name?: string;
}

function requireEmail(o: EmailOption): string {
  if (!o.email) throw AppError.badRequest('--email is required, e.g. --email you@example.com');
  return o.email;
}

@Command({
  name: 'create-admin',
  description: 'Create a platform admin and print a one-time link to set its password',
})
export class CreateAdminCommand extends CommandRunner {
  constructor(private readonly accounts: AccountsService) {
    super();
  }

  async run(_: string[], o: EmailOption): Promise<void> {
    const { user, link } = await this.accounts.createAdmin(requireEmail(o), o.name);
    out(`Created platform admin ${user.email}.`);
    out(`Open this link to set the password (it works once, for ${LINK_DAYS} days):`);
    out(link.url);
  }

  @Option({ flags: '--email <email>', description: 'the e-mail address the admin signs in with' })
  email(v: string) {
    return v;
  }

  @Option({ flags: '--name <name>', description: 'display name (default: the part before @)' })
  name(v: string) {
    return v;
  }
}

@Command({
  name: 'reset-password',
  description: "Print a one-time link to set an account's password (earlier links stop working)",
})
export class ResetPasswordCommand extends CommandRunner {
  constructor(private readonly accounts: AccountsService) {
    super();
  }

  async run(_: string[], o: EmailOption): Promise<void> {
    const link = await this.accounts.resetPassword(requireEmail(o), CLI);
    out(`Open this link to set the password (it works once, for ${LINK_DAYS} days):`);
    out(link.url);
  }

  @Option({ flags: '--email <email>', description: 'the account' })
  email(v: string) {
    return v;
  }
}

@Command({
  name: 'deactivate-user',
  description: 'Deactivate an account: its sessions end and its API tokens stop working at once',
})
export class DeactivateUserCommand extends CommandRunner {
  constructor(
    private readonly accounts: AccountsService,
    private readonly auth: AuthService,
  ) {
    super();
  }

  async run(_: string[], o: EmailOption): Promise<void> {
    const email = requireEmail(o);
    const user = await this.auth.findByEmail(email);
    if (!user) throw AppError.badRequest(`No account has the e-mail ${email}.`);
    const changed = await this.accounts.deactivate(user.id, CLI);
    out(changed ? `Deactivated ${user.email}.` : `${user.email} was deactivated already.`);
  }

  @Option({ flags: '--email <email>', description: 'the account' })
  email(v: string) {
    return v;
  }
}

@Command({ name: 'list-tenants', description: 'List every tenant with its slug, members and state' })
export class ListTenantsCommand extends CommandRunner {
  constructor(private readonly tenants: TenantsService) {
    super();
  }

  async run(): Promise<void> {
    const [all, counts] = await Promise.all([this.tenants.all(), this.tenants.memberCounts()]);
    if (!all.length) {
      out('No tenants yet. A platform admin creates them at /admin/tenants.');
      return;
    }
    const rows = all.map((t) => [
      t.slug,
      t.name,
      t.microsoftTenantId ?? '-',
      t.policySource,
      String(counts.get(t.id) ?? 0),
      t.archivedAt ? 'archived' : 'active',
    ]);
    const head = ['SLUG', 'NAME', 'MICROSOFT TENANT', 'SOURCE', 'MEMBERS', 'STATE'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [head, ...rows])
      out(
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      );
  }
}

@Command({
  name: 'rotate-encryption-key',
  description:
    'Re-encrypt every stored secret with the current key (the first of APP_ENCRYPTION_KEYS); keep the old key listed until this has run',
})
export class RotateEncryptionKeyCommand extends CommandRunner {
  constructor(private readonly connections: GraphConnectionsService) {
    super();
  }

  async run(): Promise<void> {
    const { rows, rewritten, failed } = await this.connections.rotate();
    const current = rows - rewritten - failed.length;
    out(
      `Re-encrypted ${rewritten} of ${rows} Microsoft connection${rows === 1 ? '' : 's'} with the current key` +
        (current ? ` (${current} already used it).` : '.'),
    );
    for (const f of failed) process.stderr.write(`Tenant #${f.tenantId}: ${f.message}\n`);
    if (failed.length)
      throw AppError.badRequest(
        `${failed.length} connection(s) could not be read: save their credentials again on their connection page.`,
      );
    if (rewritten) out('Older keys may now be removed from APP_ENCRYPTION_KEYS.');
  }
}

export const COMMANDS = [
  CreateAdminCommand,
  ResetPasswordCommand,
  DeactivateUserCommand,
  ListTenantsCommand,
  RotateEncryptionKeyCommand,
];
