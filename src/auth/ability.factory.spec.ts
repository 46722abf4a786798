import type { Role } from '../tenants';
import { AbilityFactory, Action, inTenant, onPlatform, SubjectName } from './ability.factory';

const OWN = 1;
const OTHER = 2;
const factory = new AbilityFactory();

function ability(role: Role, isOps = false) {
  return factory.forPrincipal({
    id: 1,
    email: 'x@example.com',
    name: 'X',
    isOps,
    memberships: [{ tenantId: OWN, slug: 'own', name: 'Own', role, archived: false }],
  });
}

// One row per role: what DESIGN.md's role table promises, in the user's own tenant.
const table: Array<[Role, Record<string, boolean>]> = [
  [
    'owner',
    {
      readRun: true,
      startRun: true,
      cancelRun: true,
      retryRun: true,
      createBackupSet: true,
      deleteBackupSet: true,
      readMembers: true,
      inviteMembers: true,
      readAudit: true,
      readConnection: true,
      updateConnection: true,
    },
  ],
  [
    'manager',
    {
      readRun: true,
      startRun: true,
      cancelRun: true,
      retryRun: true,
      createBackupSet: true,
      deleteBackupSet: true,
      readMembers: true,
      inviteMembers: false,
      readAudit: true,
      readConnection: false,
      updateConnection: false,
    },
  ],
  [
    'operator',
    {
      readRun: true,
      startRun: true,
      cancelRun: true,
      retryRun: true,
      createBackupSet: false,
      deleteBackupSet: false,
      readMembers: false,
      inviteMembers: false,
      readAudit: false,
      readConnection: false,
      updateConnection: false,
    },
  ],
  [
    'readonly',
    {
      readRun: true,
      startRun: false,
      cancelRun: false,
      retryRun: false,
      createBackupSet: false,
      deleteBackupSet: false,
      readMembers: false,
      inviteMembers: false,
      readAudit: false,
      readConnection: false,
      updateConnection: false,
    },
  ],
];

const checks: Array<[string, Action, SubjectName]> = [
  ['readRun', 'read', 'Run'],
  ['startRun', 'start', 'Run'],
  ['cancelRun', 'cancel', 'Run'],
  ['retryRun', 'retry', 'Run'],
  ['createBackupSet', 'create', 'BackupSet'],
  ['deleteBackupSet', 'delete', 'BackupSet'],
  ['readMembers', 'read', 'Membership'],
  ['inviteMembers', 'create', 'Membership'],
  ['readAudit', 'read', 'AuditEntry'],
  ['readConnection', 'read', 'Connection'],
  ['updateConnection', 'update', 'Connection'],
];

describe('AbilityFactory', () => {
  describe.each(table)('%s', (role, expected) => {
    it.each(checks)('%s in its own tenant', (key, action, subject) => {
      expect(ability(role).can(action, inTenant(subject, OWN))).toBe(expected[key]);
    });

    it.each(checks)('%s is never allowed in another tenant', (_key, action, subject) => {
      expect(ability(role).can(action, inTenant(subject, OTHER))).toBe(false);
    });

    it('may read findings, policies and backup sets of its tenant', () => {
      for (const s of ['Finding', 'Policy', 'BackupSet'] as const) {
        expect(ability(role).can('read', inTenant(s, OWN))).toBe(true);
      }
    });
  });

  it.each([
    ['owner', true, true],
    ['operator', true, true],
    ['manager', false, false],
    ['readonly', true, false],
  ] as Array<[Role, boolean, boolean]>)('Bull board for %s with is_ops=%s: %s', (role, isOps, allowed) => {
    expect(ability(role, isOps).can('read', 'BullBoard')).toBe(allowed);
  });

  it('keeps roles per tenant apart for a user with two memberships', () => {
    const a = factory.forPrincipal({
      id: 1,
      email: 'x@example.com',
      name: 'X',
      isOps: false,
      memberships: [
        { tenantId: OWN, slug: 'own', name: 'Own', role: 'operator', archived: false },
        { tenantId: OTHER, slug: 'other', name: 'Other', role: 'readonly', archived: false },
      ],
    });
    expect(a.can('start', inTenant('Run', OWN))).toBe(true);
    expect(a.can('start', inTenant('Run', OTHER))).toBe(false);
    expect(a.can('read', inTenant('Run', OTHER))).toBe(true);
  });

  it('gives platform rights to platform admins only, never through a tenant role', () => {
    for (const role of ['owner', 'manager', 'operator', 'readonly'] as Role[]) {
      for (const [action, subject] of [
        ['create', 'Tenant'],
        ['update', 'Tenant'],
        ['read', 'User'],
        ['update', 'User'],
        ['read', 'AuditEntry'],
      ] as Array<[Action, SubjectName]>) {
        expect(ability(role).can(action, onPlatform(subject))).toBe(false);
        expect(ability(role, true).can(action, onPlatform(subject))).toBe(true);
      }
    }
  });

  it('lets a platform admin administer any tenant, but not see or start its runs', () => {
    const admin = factory.forPrincipal({
      id: 9,
      email: 'a@example.com',
      name: 'A',
      isOps: true,
      memberships: [],
    });
    expect(admin.can('create', inTenant('Membership', OTHER))).toBe(true);
    expect(admin.can('read', inTenant('AuditEntry', OTHER))).toBe(true);
    expect(admin.can('update', inTenant('Connection', OTHER))).toBe(true);
    expect(admin.can('read', inTenant('Run', OTHER))).toBe(false);
    expect(admin.can('start', inTenant('Run', OTHER))).toBe(false);
  });

  it('makes an archived tenant read-only for every role, platform admins included', () => {
    for (const role of ['owner', 'manager', 'operator', 'readonly'] as Role[]) {
      const a = factory.forPrincipal({
        id: 1,
        email: 'x@example.com',
        name: 'X',
        isOps: true,
        memberships: [{ tenantId: OWN, slug: 'own', name: 'Own', role, archived: true }],
      });
      expect(a.can('read', inTenant('Run', OWN))).toBe(true);
      for (const [action, subject] of [
        ['start', 'Run'],
        ['cancel', 'Run'],
        ['create', 'BackupSet'],
        ['create', 'Membership'],
        ['update', 'Connection'],
        ['update', 'Tenant'],
      ] as Array<[Action, SubjectName]>)
        expect(a.can(action, inTenant(subject, OWN))).toBe(false);
    }
  });
});
