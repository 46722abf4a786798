/** The policies module's public face: a tenant's policies, snapshots, payloads and policy source. */
export { PoliciesModule } from './policies.module';
export { capture, INVENTORY_SYNC, PoliciesService } from './policies.service';
export type { PolicyQuery } from './policies.service';
export { POLICY_SORT_KEYS } from './policies.repository';
export type {
  CapturedPolicy,
  PolicyRow,
  PolicySort,
  PolicySortKey,
  SnapshotRow,
} from './policies.repository';
export { POLICY_SOURCE, ProviderError } from './policy-source';
export type {
  PolicySource,
  PolicySourceTenant,
  PolicyTypeListing,
  ProviderFault,
  SourcePolicy,
} from './policy-source';
export {
  canonicalJson,
  compareStrings,
  elementIdentity,
  IDENTITY_KEYS,
  normalizePayload,
  payloadHash,
} from './normalize-payload';
export type { ElementIdentity } from './normalize-payload';
export { POLICY_TYPE_LABELS, policyTypeLabel, policyTypeOptions, policyTypeParam } from './policy-types';
