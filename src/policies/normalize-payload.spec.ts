import { canonicalJson, normalizePayload, payloadHash } from './normalize-payload';

describe('normalizePayload', () => {
  it('drops volatile fields at any depth and keeps the settings', () => {
    const normalized = normalizePayload({
      '@odata.context':
        'https://graph.microsoft.com/beta/$metadata#deviceManagement/deviceConfigurations/$entity',
      '@odata.etag': 'W/"1"',
      '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
      id: 'a1',
      createdDateTime: '2025-01-01T00:00:00Z',
      lastModifiedDateTime: '2025-01-02T00:00:00Z',
      version: 7,
      roleScopeTagIds: ['0'],
      passwordMinimumLength: 8,
      'assignments@odata.context': 'https://graph.microsoft.com/beta/…',
      'passwordRequiredType@odata.type': '#microsoft.graph.requiredPasswordType',
      nested: { id: 'n1', modifiedDateTime: 'x', versionNumber: 3, '@odata.nextLink': 'y', enabled: true },
    });

    expect(normalized).toEqual({
      '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
      nested: { enabled: true },
      passwordMinimumLength: 8,
      'passwordRequiredType@odata.type': '#microsoft.graph.requiredPasswordType',
      roleScopeTagIds: ['0'],
    });
  });

  it('sorts object keys', () => {
    expect(Object.keys(normalizePayload({ b: 1, a: { d: 1, c: 2 } }) as object)).toEqual(['a', 'b']);
    expect(canonicalJson(normalizePayload({ b: 1, a: { d: 1, c: 2 } }))).toBe('{"a":{"c":2,"d":1},"b":1}');
  });

  it('sorts arrays by the most specific identifying property their elements carry', () => {
    const normalized = normalizePayload({
      settings: [
        { name: 'a', settingDefinitionId: 'z_setting' },
        { name: 'z', settingDefinitionId: 'a_setting' },
      ],
      rules: [{ displayName: 'c' }, { displayName: 'a', key: 'z' }, { displayName: 'b', key: 'y' }],
    });

    expect(normalized).toEqual({
      rules: [{ displayName: 'b', key: 'y' }, { displayName: 'a', key: 'z' }, { displayName: 'c' }],
      settings: [
        { name: 'z', settingDefinitionId: 'a_setting' },
        { name: 'a', settingDefinitionId: 'z_setting' },
      ],
    });
  });

  it('sorts scalar arrays and unkeyed object arrays by their canonical JSON', () => {
    expect(normalizePayload(['sharePoint', 'box', 'oneDriveForBusiness'])).toEqual([
      'box',
      'oneDriveForBusiness',
      'sharePoint',
    ]);
    expect(normalizePayload([{ actionType: 'notification' }, { actionType: 'block', id: 'x' }])).toEqual([
      { actionType: 'block' },
      { actionType: 'notification' },
    ]);
  });

  it('gives reordered arrays and objects the same result and hash', () => {
    const one = {
      apps: [{ bundleId: 'b' }, { bundleId: 'a' }],
      settings: [
        {
          settingDefinitionId: 's2',
          children: [{ settingDefinitionId: 'c2' }, { settingDefinitionId: 'c1' }],
        },
        { settingDefinitionId: 's1', children: [] },
      ],
      extensions: ['.tmp', '.log'],
    };
    const other = {
      extensions: ['.log', '.tmp'],
      settings: [
        { children: [], settingDefinitionId: 's1' },
        {
          children: [{ settingDefinitionId: 'c1' }, { settingDefinitionId: 'c2' }],
          settingDefinitionId: 's2',
        },
      ],
      apps: [{ bundleId: 'a' }, { bundleId: 'b' }],
    };

    expect(normalizePayload(one)).toEqual(normalizePayload(other));
    expect(payloadHash(normalizePayload(one))).toBe(payloadHash(normalizePayload(other)));
  });

  it('treats non-JSON values the way JSON.stringify does', () => {
    expect(normalizePayload({ a: undefined, b: Number.NaN, c: [undefined, Infinity] })).toEqual({
      b: null,
      c: [null, null],
    });
    expect(normalizePayload(undefined)).toBeNull();
  });

  it('keeps a provider field named __proto__ as data', () => {
    const normalized = normalizePayload(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')) as Record<
      string,
      unknown
    >;

    expect(Object.getPrototypeOf(normalized)).toBe(Object.prototype);
    expect(Object.keys(normalized)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('payloadHash', () => {
  it('is a SHA-256 hex digest that ignores volatile fields and notices setting changes', () => {
    const base = { id: '1', version: 1, passwordRequired: true };
    const hash = payloadHash(normalizePayload(base));

    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(payloadHash(normalizePayload({ ...base, id: '2', version: 2 }))).toBe(hash);
    expect(payloadHash(normalizePayload({ ...base, passwordRequired: false }))).not.toBe(hash);
  });

  it('does not depend on the key order of a stored payload', () => {
    const normalized = normalizePayload({ a: 1, b: { c: 2, d: [1, 2] }, '10': 'x', '9': 'y' });
    const reordered = { b: { d: [1, 2], c: 2 }, '9': 'y', a: 1, '10': 'x' };

    expect(payloadHash(reordered)).toBe(payloadHash(normalized));
    expect(canonicalJson(reordered)).toBe('{"10":"x","9":"y","a":1,"b":{"c":2,"d":[1,2]}}');
  });
});
