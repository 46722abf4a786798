import fc from 'fast-check';
import { normalizePayload } from '../policies';
import { GRAPH_VOLATILE_KEYS, normalizeGraphPayload } from './normalize-graph-payload';

/** Keys a Graph document may carry: content, annotations, and the volatile ones. */
const KEYS = [
  'displayName',
  'target',
  'groupId',
  'value',
  'settings',
  '@odata.type',
  'value@odata.type',
  '@odata.context',
  '@odata.etag',
  'assignments@odata.context',
  '@odata.nextLink',
  ...GRAPH_VOLATILE_KEYS,
];

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 6 }),
  ),
})).value;

function keysAtEveryDepth(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => keysAtEveryDepth(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      keysAtEveryDepth(v, out);
    }
  }
  return out;
}

describe('normalizeGraphPayload', () => {
  it('drops volatile Graph keys and OData annotations at every depth, keeping @odata.type and the rest', () => {
    fc.assert(
      fc.property(json, (doc) => {
        const out = normalizeGraphPayload(doc);
        const keys = keysAtEveryDepth(out);
        expect(keys.filter((k) => GRAPH_VOLATILE_KEYS.has(k))).toEqual([]);
        expect(keys.filter((k) => k.includes('@odata.') && !k.endsWith('@odata.type'))).toEqual([]);
        // Nothing else changed: dropping the same keys by hand gives the same document.
        const manual = JSON.parse(
          JSON.stringify(doc, (k, v) =>
            GRAPH_VOLATILE_KEYS.has(k) || (k.includes('@odata.') && !k.endsWith('@odata.type'))
              ? undefined
              : v,
          ),
        );
        expect(out).toEqual(manual);
        expect(normalizeGraphPayload(out)).toEqual(out);
      }),
    );
  });

  it('leaves, together with the app normalizer, none of the keys GRAPH-NOTES lists as volatile', () => {
    const doc = {
      '@odata.context':
        'https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies/$entity',
      id: 'policy-1',
      createdDateTime: '2025-01-01T00:00:00Z',
      modifiedDateTime: '2025-02-01T00:00:00Z',
      version: 7,
      displayName: 'Require MFA',
      isAssigned: true,
      settingCount: 3,
      grantControls: {
        operator: 'OR',
        builtInControls: ['mfa'],
        'authenticationStrength@odata.context':
          'https://graph.microsoft.com/…/authenticationStrength/$entity',
        authenticationStrength: null,
      },
      assignments: [
        {
          id: 'policy-1_group',
          sourceId: 'policy-1',
          target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: 'group' },
        },
      ],
    };
    expect(normalizePayload(normalizeGraphPayload(doc))).toEqual({
      assignments: [
        { target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: 'group' } },
      ],
      displayName: 'Require MFA',
      grantControls: { authenticationStrength: null, builtInControls: ['mfa'], operator: 'OR' },
    });
  });
});
