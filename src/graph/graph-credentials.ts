/** The credential of one tenant, decrypted, as the app hands it to the Graph client. */
export interface GraphCredential {
  /** GUID or verified domain. */
  microsoftTenantId: string;
  clientId: string;
  /** Changes on every save: a new MSAL client per version. */
  version: string;
  secret?: { clientSecret: string };
  certificate?: { certificatePem: string; privateKeyPem: string };
}

/** Injection token of the app's GraphCredentialsProvider. */
export const GRAPH_CREDENTIALS = Symbol('GRAPH_CREDENTIALS');

export interface GraphCredentialsProvider {
  /** `null` when the tenant has no Graph connection. */
  forTenant(tenantId: number): Promise<GraphCredential | null>;
}
