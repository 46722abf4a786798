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
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export interface PolicySourceTenant {
  id: number;
  slug: string;
}

export interface PolicySource {
  readonly name: string;
  listPolicies(tenant: PolicySourceTenant): Promise<SourcePolicy[]>;
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
