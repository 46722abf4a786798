/** One policy as a provider reports it; `payload` is the raw provider document, volatile fields included. */
export interface SourcePolicy {
  externalId: string;
  policyType: string;
  displayName: string;
  platform: string;
  payload: Record<string, unknown>;
}

/** The provider failures a run can name; they are a subset of the run failure catalogue's reason codes. */
export type ProviderFault =
  | 'provider_throttled'
  | 'permission_denied'
  | 'credentials_invalid'
  | 'not_found'
  | 'provider_unavailable'
  | 'timeout';

/**
 * Thrown by a `PolicySource` so that the run records a catalogued reason instead of `unexpected_error`.
 * `message` still goes through the failure sanitizer: providers echo request URLs and tokens back.
 */
export class ProviderError extends Error {
  constructor(
    readonly reasonCode: ProviderFault,
    message: string,
    readonly status?: number,
    /** How long the provider asked to be left alone before the next try (its Retry-After), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export interface PolicySourceTenant {
  id: number;
  slug: string;
}

/** One policy type's part of a listing: its policies, or why they could not be read. */
export type PolicyTypeListing =
  { policyType: string; policies: SourcePolicy[] } | { policyType: string; error: ProviderError };

export interface PolicySource {
  readonly name: string;
  listPolicies(tenant: PolicySourceTenant): Promise<SourcePolicy[]>;
  /**
   * The listing type by type, where one type can fail while the others are read (a permission
   * missing for one of them). A sync then keeps that type's earlier policies as they were.
   */
  listByType?(tenant: PolicySourceTenant): Promise<PolicyTypeListing[]>;
  /** Where the source's own settings for a tenant are shown (the demo source's fault switches). */
  settingsHref?(tenantSlug: string): string | null;
  /** `null` when the policy no longer exists upstream. */
  getPolicy(tenant: PolicySourceTenant, policyType: string, externalId: string): Promise<SourcePolicy | null>;
  /** Many policies in one call, where the provider can (else getPolicy is called for each); `null` where gone. */
  getPolicies?(
    tenant: PolicySourceTenant,
    keys: Array<{ policyType: string; externalId: string }>,
  ): Promise<Array<SourcePolicy | null>>;
  /**
   * Human labels for setting paths (settings-catalog definition names and the like), as drift shows
   * them; a path the provider has no label for is left out.
   */
  settingLabels(tenant: PolicySourceTenant, paths: string[]): Promise<Record<string, string>>;
  /** Called once a sync's snapshot is committed (the demo source moves its tenant on). */
  afterSync?(tenant: PolicySourceTenant): Promise<void>;
}

/** Injection token for the configured PolicySource. */
export const POLICY_SOURCE = Symbol('POLICY_SOURCE');
