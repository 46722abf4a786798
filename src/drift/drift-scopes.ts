import { scopeKey } from './drift-diff';

export interface DriftScope {
  key: string;
  name: string;
  types: string[];
}

/**
 * The comparisons offered on the drift page: everything, and each policy type on its own. A scope is
 * a set of policy types; its key is a stable hash of that set.
 */
export function driftScopes(typeLabels: Record<string, string>): DriftScope[] {
  const all = Object.keys(typeLabels).sort();
  return [
    { key: scopeKey(all), name: 'All policies', types: all },
    ...all.map((t) => ({ key: scopeKey([t]), name: typeLabels[t], types: [t] })),
  ];
}
