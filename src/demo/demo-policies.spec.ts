import { demoChanges, demoPolicies } from './demo-policies';
import { canonicalJson, normalizePayload, payloadHash } from '../policies';
import type { SourcePolicy } from '../policies';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function byKey(policies: SourcePolicy[]): Map<string, SourcePolicy> {
  return new Map(policies.map((p) => [`${p.policyType}:${p.externalId}`, p]));
}

describe('demoPolicies', () => {
  it('is deterministic for a tenant and generation', () => {
    expect(demoPolicies('contoso', 2)).toEqual(demoPolicies('contoso', 2));
  });

  it('gives different tenants different policies', () => {
    const contoso = new Set(demoPolicies('contoso', 0).map((p) => p.externalId));
    const fabrikam = demoPolicies('fabrikam', 0);

    expect(fabrikam.some((p) => contoso.has(p.externalId))).toBe(false);
    expect(fabrikam[0].displayName).toMatch(/^Fabrikam - /);
  });

  it('builds a base tenant of unique, GUID-shaped policies across types and platforms', () => {
    const policies = demoPolicies('contoso', 0);

    expect(policies).toHaveLength(300);
    expect(new Set(policies.map((p) => p.externalId)).size).toBe(300);
    expect(policies.every((p) => GUID.test(p.externalId))).toBe(true);
    expect(new Set(policies.map((p) => p.policyType))).toEqual(
      new Set([
        'deviceConfiguration',
        'compliancePolicy',
        'settingsCatalog',
        'appProtection',
        'endpointSecurity',
      ]),
    );
    expect(new Set(policies.map((p) => p.platform))).toEqual(
      new Set(['windows10', 'iOS', 'android', 'macOS']),
    );
    expect(policies.every((p) => /^Contoso - (Win10|iOS|Android|macOS) - \S/.test(p.displayName))).toBe(true);
  });

  it('nests settings-catalog settings with their definition id on each element', () => {
    const catalog = demoPolicies('contoso', 0).find((p) => p.policyType === 'settingsCatalog');
    const settings = catalog?.payload.settings as { settingDefinitionId: string; settingInstance: unknown }[];

    expect(settings.length).toBeGreaterThan(0);
    for (const setting of settings) {
      expect(setting.settingInstance).toMatchObject({ settingDefinitionId: setting.settingDefinitionId });
    }
  });

  it('rewrites the volatile fields of every policy in every generation', () => {
    const before = byKey(demoPolicies('contoso', 1));
    const after = demoPolicies('contoso', 2).filter((p) => before.has(`${p.policyType}:${p.externalId}`));

    expect(after.length).toBeGreaterThan(290);
    for (const policy of after) {
      const old = before.get(`${policy.policyType}:${policy.externalId}`)!.payload;
      expect(policy.payload['@odata.etag']).not.toBe(old['@odata.etag']);
      expect(policy.payload.lastModifiedDateTime).not.toBe(old.lastModifiedDateTime);
      if ('version' in old) expect(policy.payload.version).not.toBe(old.version);
    }
  });

  it('reorders arrays of unchanged policies without changing their normalized payload', () => {
    const before = byKey(demoPolicies('contoso', 1));
    const { modified } = demoChanges('contoso', 1, 2);
    const unchanged = demoPolicies('contoso', 2)
      .map((policy) => ({ policy, old: before.get(`${policy.policyType}:${policy.externalId}`) }))
      .filter((pair): pair is { policy: SourcePolicy; old: SourcePolicy } => {
        return (
          pair.old !== undefined && !modified.includes(`${pair.policy.policyType}:${pair.policy.externalId}`)
        );
      });
    const settingOrder = (p: SourcePolicy) =>
      (p.payload.settings as { settingDefinitionId: string }[]).map((s) => s.settingDefinitionId).join();

    const reordered = unchanged.filter(
      ({ policy, old }) =>
        policy.policyType === 'settingsCatalog' && settingOrder(policy) !== settingOrder(old),
    );

    expect(reordered.length).toBeGreaterThan(0);
    for (const { policy, old } of unchanged) {
      expect(payloadHash(normalizePayload(policy.payload))).toBe(payloadHash(normalizePayload(old.payload)));
    }
  });

  it('rejects generations and options it cannot honour', () => {
    expect(() => demoPolicies('contoso', -1)).toThrow(RangeError);
    expect(() => demoPolicies('contoso', 1.5)).toThrow(RangeError);
    expect(() => demoPolicies('contoso', 0, { size: -1 })).toThrow(RangeError);
    expect(() => demoPolicies('contoso', 0, { changeRate: 2 })).toThrow(RangeError);
  });
});

describe('demoChanges', () => {
  it('adds 3, removes 2 and modifies 4 policies per generation at the default size', () => {
    for (const generation of [1, 2, 3]) {
      const changes = demoChanges('contoso', generation - 1, generation);
      expect([changes.added.length, changes.removed.length, changes.modified.length]).toEqual([3, 2, 4]);
    }
  });

  it('scales the churn with size and changeRate', () => {
    const changes = demoChanges('contoso', 0, 1, { size: 1000, changeRate: 0.09 });

    expect([changes.added.length, changes.removed.length, changes.modified.length]).toEqual([30, 20, 40]);
  });

  it('reports the net effect over several generations', () => {
    const steps = [1, 2, 3].map((g) => demoChanges('contoso', g - 1, g));
    const net = demoChanges('contoso', 0, 3);
    const base = new Set(demoPolicies('contoso', 0).map((p) => `${p.policyType}:${p.externalId}`));
    const latest = new Set(demoPolicies('contoso', 3).map((p) => `${p.policyType}:${p.externalId}`));

    expect(net.added).toEqual([...latest].filter((key) => !base.has(key)).sort());
    expect(net.removed).toEqual([...base].filter((key) => !latest.has(key)).sort());
    expect(net.modified.every((key) => steps.some((step) => step.modified.includes(key)))).toBe(true);
  });

  it('keys changes by policy type and external id', () => {
    const { added } = demoChanges('contoso', 0, 1);
    const latest = byKey(demoPolicies('contoso', 1));

    expect(added.every((key) => latest.has(key))).toBe(true);
  });

  it('finds nothing when the tenant does not churn', () => {
    expect(demoChanges('contoso', 0, 5, { changeRate: 0 })).toEqual({ added: [], removed: [], modified: [] });
  });
});

describe('demo payloads under normalization', () => {
  it('normalize idempotently (realistic provider documents)', () => {
    for (const policy of demoPolicies('contoso', 2)) {
      const once = normalizePayload(policy.payload);
      expect(canonicalJson(normalizePayload(once))).toBe(canonicalJson(once));
    }
  });
});
