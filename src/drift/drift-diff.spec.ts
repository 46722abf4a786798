import { demoChanges, demoPolicies, type DemoOptions } from '../demo/source';
import { normalizePayload, payloadHash, type SourcePolicy } from '../policies';
import {
  diffPayloads,
  diffSnapshots,
  type DriftFinding,
  findingFingerprint,
  MAX_CHANGES_PER_POLICY,
  scopeKey,
  type SnapshotItem,
} from './drift-diff';

function item(
  externalId: string,
  payload: Record<string, unknown>,
  policyType = 'deviceConfiguration',
): SnapshotItem {
  const normalized = normalizePayload(payload);
  return {
    policyType,
    externalId,
    displayName: `Policy ${externalId}`,
    payloadHash: payloadHash(normalized),
    payload: normalized,
  };
}

function snapshot(policies: SourcePolicy[]): SnapshotItem[] {
  return policies.map((p) => {
    const payload = normalizePayload(p.payload);
    return {
      policyType: p.policyType,
      externalId: p.externalId,
      displayName: p.displayName,
      payloadHash: payloadHash(payload),
      payload,
    };
  });
}

function keysOf(findings: DriftFinding[], changeType: DriftFinding['changeType']): string[] {
  return findings
    .filter((f) => f.changeType === changeType)
    .map((f) => `${f.policyType}:${f.externalId}`)
    .sort();
}

function diffDemo(from: number, to: number, opts?: DemoOptions) {
  return diffSnapshots(
    snapshot(demoPolicies('contoso', from, opts)),
    snapshot(demoPolicies('contoso', to, opts)),
  );
}

const catalogSetting = (definitionId: string, value: string, children: unknown[] = []) => ({
  settingDefinitionId: definitionId,
  settingInstance: {
    '@odata.type': '#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance',
    settingDefinitionId: definitionId,
    choiceSettingValue: { value: `${definitionId}_${value}`, children },
  },
});

describe('diffPayloads', () => {
  it('reports changed, added and removed settings with JSON values', () => {
    const changes = diffPayloads(
      normalizePayload({ passwordMinimumLength: 8, cameraBlocked: false, defenderScanType: 'quick' }),
      normalizePayload({ passwordMinimumLength: 12, cameraBlocked: false, usbBlocked: true }),
    );

    expect(changes).toEqual([
      { path: 'defenderScanType', before: '"quick"', after: null },
      { path: 'passwordMinimumLength', before: '8', after: '12' },
      { path: 'usbBlocked', before: null, after: 'true' },
    ]);
  });

  it('reports a change deep inside a settings-catalog settings array at its keyed path', () => {
    const archive = 'device_vendor_msft_policy_config_defender_allowarchivescanning';
    const method = 'device_vendor_msft_bitlocker_encryptionmethodbydrivetype';
    const before = normalizePayload({
      settings: [
        catalogSetting(archive, '1'),
        catalogSetting(method, '1', [
          { settingDefinitionId: `${method}_os`, choiceSettingValue: { value: '7' } },
        ]),
      ],
    });
    const after = normalizePayload({
      settings: [
        catalogSetting(method, '1', [
          { settingDefinitionId: `${method}_os`, choiceSettingValue: { value: '6' } },
        ]),
        catalogSetting(archive, '0'),
      ],
    });

    expect(diffPayloads(before, after)).toEqual([
      {
        path: `settings[${method}].settingInstance.choiceSettingValue.children[${method}_os].choiceSettingValue.value`,
        before: '"7"',
        after: '"6"',
      },
      {
        path: `settings[${archive}].settingInstance.choiceSettingValue.value`,
        before: `"${archive}_1"`,
        after: `"${archive}_0"`,
      },
    ]);
  });

  it('compares unkeyed arrays as multisets', () => {
    const changes = diffPayloads(
      normalizePayload({ allowedDataStorageLocations: ['sharePoint', 'oneDriveForBusiness'] }),
      normalizePayload({ allowedDataStorageLocations: ['box', 'oneDriveForBusiness'] }),
    );

    expect(changes).toEqual([
      { path: 'allowedDataStorageLocations[]', before: '"sharePoint"', after: null },
      { path: 'allowedDataStorageLocations[]', before: null, after: '"box"' },
    ]);
  });

  it('follows a single changed element of an unkeyed array into its fields', () => {
    const rule = (gracePeriodHours: number) => ({
      scheduledActionsForRule: [
        {
          ruleName: 'PasswordRequired',
          scheduledActionConfigurations: [
            { actionType: 'block', gracePeriodHours },
            { actionType: 'notification', gracePeriodHours: 0 },
          ],
        },
      ],
    });

    expect(diffPayloads(normalizePayload(rule(24)), normalizePayload(rule(72)))).toEqual([
      {
        path: 'scheduledActionsForRule[0].scheduledActionConfigurations[0].gracePeriodHours',
        before: '24',
        after: '72',
      },
    ]);
  });

  it('finds nothing in reordered arrays', () => {
    const before = normalizePayload({
      settings: [catalogSetting('a', '1'), catalogSetting('b', '0')],
      tags: ['x', 'y'],
    });
    const after = normalizePayload({
      tags: ['y', 'x'],
      settings: [catalogSetting('b', '0'), catalogSetting('a', '1')],
    });

    expect(diffPayloads(before, after)).toEqual([]);
  });

  it('treats a changed @odata.type as a change', () => {
    const changes = diffPayloads(
      normalizePayload({ '@odata.type': '#microsoft.graph.iosCompliancePolicy', '@odata.etag': 'a' }),
      normalizePayload({ '@odata.type': '#microsoft.graph.macOSCompliancePolicy', '@odata.etag': 'b' }),
    );

    expect(changes).toEqual([
      {
        path: '@odata.type',
        before: '"#microsoft.graph.iosCompliancePolicy"',
        after: '"#microsoft.graph.macOSCompliancePolicy"',
      },
    ]);
  });

  it('cuts long values to 120 characters', () => {
    const [change] = diffPayloads({ note: 'short' }, { note: 'x'.repeat(500) });

    expect(change.after).toHaveLength(120);
    expect(change.after).toBe(`"${'x'.repeat(118)}…`);
    expect(change.before).toBe('"short"');
  });

  it(`stops at ${MAX_CHANGES_PER_POLICY} changes per policy`, () => {
    const wide = (value: number) =>
      Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`setting${i}`, value]));

    expect(diffPayloads(wide(1), wide(2))).toHaveLength(MAX_CHANGES_PER_POLICY);
  });
});

describe('diffSnapshots', () => {
  const baseline = [
    item('kept', { id: 'kept', passwordRequired: true }),
    item('changed', { passwordMinimumLength: 8 }),
    item('gone', { cameraBlocked: true }),
  ];
  const current = [
    item('new', { cameraBlocked: false }, 'compliancePolicy'),
    item('changed', { passwordMinimumLength: 14 }),
    item('kept', { id: 'other-id', passwordRequired: true }),
  ];

  it('finds added, removed and modified policies, sorted', () => {
    const { findings, compared } = diffSnapshots(baseline, current);

    expect(compared).toBe(4);
    expect(findings).toEqual([
      {
        changeType: 'added',
        policyType: 'compliancePolicy',
        externalId: 'new',
        displayName: 'Policy new',
        changes: [],
      },
      {
        changeType: 'removed',
        policyType: 'deviceConfiguration',
        externalId: 'gone',
        displayName: 'Policy gone',
        changes: [],
      },
      {
        changeType: 'modified',
        policyType: 'deviceConfiguration',
        externalId: 'changed',
        displayName: 'Policy changed',
        changes: [{ path: 'passwordMinimumLength', before: '8', after: '14' }],
      },
    ]);
  });

  it('finds nothing between identical snapshots', () => {
    expect(diffSnapshots(baseline, baseline)).toEqual({ findings: [], compared: 3 });
  });

  it('ignores changes to ids, timestamps, versions and OData annotations', () => {
    const payload = (n: number) => ({
      '@odata.context': `https://graph.microsoft.com/beta/$metadata#deviceManagement/deviceConfigurations/${n}`,
      '@odata.etag': `W/"${n}"`,
      id: `id-${n}`,
      createdDateTime: `2025-01-0${n}T00:00:00Z`,
      lastModifiedDateTime: `2025-02-0${n}T00:00:00Z`,
      version: n,
      settings: [{ id: String(n), settingDefinitionId: 'a', value: 1 }],
      passwordRequired: true,
    });

    expect(diffSnapshots([item('p', payload(1))], [item('p', payload(2))]).findings).toEqual([]);
  });

  it('keys policies by type and external id', () => {
    const { findings } = diffSnapshots(
      [item('same-id', {}, 'compliancePolicy')],
      [item('same-id', {}, 'settingsCatalog')],
    );

    expect(findings.map((f) => [f.changeType, f.policyType])).toEqual([
      ['added', 'settingsCatalog'],
      ['removed', 'compliancePolicy'],
    ]);
  });

  it('trusts equal hashes without loading payloads, and demands payloads where hashes differ', () => {
    const lean = (items: SnapshotItem[]) => items.map(({ payload: _payload, ...rest }) => rest);

    expect(diffSnapshots(lean(baseline.slice(0, 1)), lean(current.slice(2))).findings).toEqual([]);
    expect(() => diffSnapshots(lean(baseline), current)).toThrow(
      'Cannot diff deviceConfiguration changed: its payload hash changed but the baseline payload was not loaded',
    );
  });

  it('rejects a snapshot that lists a policy twice', () => {
    expect(() => diffSnapshots([...baseline, baseline[0]], current)).toThrow(
      /baseline snapshot lists deviceConfiguration kept twice/,
    );
  });

  it.each([
    [1, 2],
    [0, 3],
  ])('finds exactly the demo tenant changes between generations %i and %i', (from, to) => {
    const expected = demoChanges('contoso', from, to);
    const { findings } = diffDemo(from, to);

    expect(expected.added.length * expected.removed.length * expected.modified.length).toBeGreaterThan(0);
    expect(keysOf(findings, 'added')).toEqual(expected.added);
    expect(keysOf(findings, 'removed')).toEqual(expected.removed);
    expect(keysOf(findings, 'modified')).toEqual(expected.modified);
    for (const f of findings) expect(f.changes.length > 0).toBe(f.changeType === 'modified');
  });

  it('finds the right counts in a 50,000-policy tenant with 2 % churn', () => {
    const opts = { size: 50_000, changeRate: 0.02 };
    const expected = demoChanges('contoso', 1, 2, opts);
    const { findings, compared } = diffDemo(1, 2, opts);

    expect([expected.added.length, expected.removed.length, expected.modified.length]).toEqual([
      333, 222, 445,
    ]);
    expect(keysOf(findings, 'added')).toHaveLength(333);
    expect(keysOf(findings, 'removed')).toHaveLength(222);
    expect(keysOf(findings, 'modified')).toHaveLength(445);
    // Generation 1 holds 50,000 - 222 + 333 policies; the union adds the 333 that generation 2 brings.
    expect(compared).toBe(50_111 + 333);
  }, 60_000);
});

describe('findingFingerprint', () => {
  const [finding] = diffSnapshots([item('a', { x: 1 })], [item('a', { x: 2 })]).findings;

  it('is the same when the same comparison runs again', () => {
    const again = diffSnapshots([item('a', { x: 1 })], [item('a', { x: 2 })]).findings[0];

    expect(findingFingerprint('scope', 1, 2, again)).toBe(findingFingerprint('scope', 1, 2, finding));
    expect(findingFingerprint('scope', 1, 2, finding)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs for another comparison or another finding', () => {
    const fingerprint = findingFingerprint('scope', 1, 2, finding);

    expect(findingFingerprint('scope', 1, 3, finding)).not.toBe(fingerprint);
    expect(findingFingerprint('scope', 0, 2, finding)).not.toBe(fingerprint);
    expect(findingFingerprint('other', 1, 2, finding)).not.toBe(fingerprint);
    expect(findingFingerprint('scope', 1, 2, { ...finding, changes: [] })).not.toBe(fingerprint);
  });
});

describe('scopeKey', () => {
  it('names the set of policy types whatever their order or repetition', () => {
    const key = scopeKey(['settingsCatalog', 'compliancePolicy']);

    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(scopeKey(['compliancePolicy', 'settingsCatalog', 'compliancePolicy'])).toBe(key);
    expect(scopeKey(['compliancePolicy'])).not.toBe(key);
  });
});
