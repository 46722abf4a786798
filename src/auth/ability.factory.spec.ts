import type { Role } from '../tenants';
import { AbilityFactory, Action, inTenant, SubjectName } from './ability.factory';

const OWN = 1;
const OTHER = 2;
const factory = new AbilityFactory();

function ability(role: Role, isOps = false) {
  return factory.forPrincipal({
    id: 1,
    email: 'x@example.com',
    name: 'X',
    isOps,
    memberships: [{ tenantId: OWN, slug: 'own', name: 'Own', role }],
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
        { tenantId: OWN, slug: 'own', name: 'Own', role: 'operator' },
        { tenantId: OTHER, slug: 'other', name: 'Other', role: 'readonly' },
      ],
    });
    expect(a.can('start', inTenant('Run', OWN))).toBe(true);
    expect(a.can('start', inTenant('Run', OTHER))).toBe(false);
    expect(a.can('read', inTenant('Run', OTHER))).toBe(true);
  });
});
