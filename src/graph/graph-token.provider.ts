import {
  AuthError,
  ClientConfigurationError,
  ConfidentialClientApplication,
  INetworkModule,
  LogLevel,
  NetworkRequestOptions,
  NetworkResponse,
  NodeAuthOptions,
} from '@azure/msal-node';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ProviderError, ProviderFault } from '../policies/policy-source';
import type { GraphCredential } from './graph-credentials';
import { GraphTransport, TransportError } from './graph-transport';

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

/**
 * What the common AADSTS codes mean for an operator. Entra's own description is never shown: it can
 * echo what was sent, the secret included.
 */
const AADSTS_MEANINGS: Record<string, string> = {
  '7000215': 'the client secret is wrong',
  '7000222': 'the client secret has expired',
  '7000218': 'neither a client secret nor a certificate was sent',
  '700016': 'the application (client) ID is not registered in this tenant',
  '90002': 'the tenant was not found',
  '900023': 'the tenant ID is neither a GUID nor a verified domain',
  '700027': 'the certificate is not registered on the app registration, or the signature does not match it',
  '700024': 'the signed client assertion is outside its validity period (check the server clock)',
  '700021': 'the signed client assertion names another application',
  '700212': 'the signed client assertion was made for another token endpoint',
  '50027': 'the signed client assertion is malformed',
  '7000112': 'the application is disabled',
  '1002012': 'the requested scope is not valid',
  '65001': 'admin consent has not been granted',
  '500011': 'the Microsoft Graph service principal is missing from the tenant',
};

export function describeAadsts(code: string): string {
  return `AADSTS${code}: ${AADSTS_MEANINGS[code] ?? 'Entra ID refused the app credentials'}.`;
}

/** The AADSTS code of an Entra error body, if it has one. */
function aadstsCode(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const codes = (body as { error_codes?: unknown }).error_codes;
  if (Array.isArray(codes) && codes.length > 0) return String(codes[0]);
  const description = (body as { error_description?: unknown }).error_description;
  const match = typeof description === 'string' ? /AADSTS(\d+)/.exec(description) : null;
  return match ? match[1] : null;
}

/**
 * A transport failure handed through MSAL: MSAL rethrows an AuthError unchanged but wraps any other
 * error into a bare `network_error`, losing whether it was a timeout.
 */
class TokenTransportError extends AuthError {
  constructor(
    readonly fault: ProviderFault,
    message: string,
  ) {
    super('graph_token_transport', '', message);
    // AuthError resets the prototype to its own; restore ours so that instanceof works.
    Object.setPrototypeOf(this, TokenTransportError.prototype);
  }
}

type LastFailure = { aadsts: string } | { fault: ProviderFault; message: string };

/**
 * MSAL's network client over GraphTransport. It also remembers the last failure of the discovery
 * request: MSAL swallows that one and reports only "endpoints could not be resolved", which would hide
 * an unknown tenant (AADSTS90002) or a timeout.
 */
class MsalNetwork implements INetworkModule {
  lastFailure: LastFailure | null = null;

  constructor(private readonly transport: GraphTransport) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number) {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions) {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    let response;
    try {
      response = await this.transport.send({
        method,
        url,
        headers: options?.headers,
        body: options?.body,
        timeoutMs: timeout,
      });
    } catch (e) {
      const fault: ProviderFault =
        e instanceof TransportError && e.kind === 'timeout' ? 'timeout' : 'provider_unavailable';
      const message = `Entra ID could not be reached: ${e instanceof Error ? e.message : 'network error'}`;
      this.lastFailure = { fault, message };
      throw new TokenTransportError(fault, message);
    }
    let body: unknown;
    try {
      body = JSON.parse(response.body.toString('utf8'));
    } catch {
      const message = `Entra ID answered ${response.status} with a body that is not JSON`;
      this.lastFailure = { fault: 'provider_unavailable', message };
      throw new TokenTransportError('provider_unavailable', message);
    }
    if (response.status >= 400) {
      const code = aadstsCode(body);
      if (code && response.status < 500 && response.status !== 429) this.lastFailure = { aadsts: code };
      else
        this.lastFailure = {
          fault: response.status === 429 ? 'provider_throttled' : 'provider_unavailable',
          message: `Entra ID answered ${response.status}`,
        };
    }
    return { status: response.status, headers: response.headers, body: body as T };
  }
}

interface TenantClient {
  version: string;
  app: ConfidentialClientApplication;
  network: MsalNetwork;
  /** The token request under way, shared by every caller that needs one meanwhile. */
  pending: Promise<string> | null;
  lastToken: string | null;
}

/** Hex SHA-256 thumbprint of a PEM certificate, as MSAL wants it (`x5t#S256`). */
function certificateThumbprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/**
 * Access tokens for Graph, one MSAL ConfidentialClientApplication per tenant and credential version
 * (a saved credential gets a new client; the old one, and its token cache, is dropped). MSAL keeps
 * the token in memory and renews it before expiry, so a whole sync costs one token request.
 */
@Injectable()
export class GraphTokenProvider {
  private readonly logger = new Logger('GraphToken');
  private readonly clients = new Map<number, TenantClient>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transport: GraphTransport,
  ) {}

  /**
   * A token for the tenant. `rejected`: a token Graph just refused (401); a new one is fetched
   * unless another caller already replaced it.
   */
  async accessToken(tenantId: number, credential: GraphCredential, rejected?: string): Promise<string> {
    const client = this.client(tenantId, credential);
    const forceRefresh = rejected !== undefined && rejected === client.lastToken;
    if (client.pending) {
      const token = await client.pending;
      if (!forceRefresh || token !== rejected) return token;
    }
    if (!forceRefresh && rejected !== undefined && client.lastToken) return client.lastToken;
    const pending = this.acquire(tenantId, client, forceRefresh);
    client.pending = pending;
    try {
      return await pending;
    } finally {
      if (client.pending === pending) client.pending = null;
    }
  }

  /** Drops the tenant's client (its connection was removed). */
  forget(tenantId: number): void {
    this.clients.delete(tenantId);
  }

  private async acquire(tenantId: number, client: TenantClient, forceRefresh: boolean): Promise<string> {
    client.network.lastFailure = null;
    try {
      const result = await client.app.acquireTokenByClientCredential({
        scopes: [GRAPH_SCOPE],
        skipCache: forceRefresh,
      });
      if (!result?.accessToken) {
        throw new ProviderError('credentials_invalid', 'Entra ID issued no access token.');
      }
      client.lastToken = result.accessToken;
      return result.accessToken;
    } catch (e) {
      const error = this.toProviderError(e, client.network);
      this.logger.warn(`token request for tenant ${tenantId} failed: ${error.reasonCode}: ${error.message}`);
      throw error;
    }
  }

  private client(tenantId: number, credential: GraphCredential): TenantClient {
    const cached = this.clients.get(tenantId);
    if (cached && cached.version === credential.version) return cached;
    const network = new MsalNetwork(this.transport);
    const secrets: string[] = [];
    const auth: NodeAuthOptions = {
      clientId: credential.clientId,
      authority: `${this.config.graph.authorityHost}/${encodeURIComponent(credential.microsoftTenantId)}`,
      // Known authorities skip instance discovery: MSAL then only reads the tenant's OpenID document.
      knownAuthorities: [new URL(this.config.graph.authorityHost).host],
    };
    if (credential.certificate) {
      const { certificatePem, privateKeyPem } = credential.certificate;
      auth.clientCertificate = this.certificateOptions(certificatePem, privateKeyPem);
      secrets.push(privateKeyPem, auth.clientCertificate.privateKey);
    } else if (credential.secret) {
      auth.clientSecret = credential.secret.clientSecret;
      secrets.push(credential.secret.clientSecret);
    } else {
      throw new ProviderError(
        'credentials_invalid',
        'The Microsoft Graph connection has neither a client secret nor a certificate.',
      );
    }
    let app: ConfidentialClientApplication;
    try {
      app = new ConfidentialClientApplication({
        auth,
        system: {
          networkClient: network,
          loggerOptions: {
            logLevel: LogLevel.Warning,
            piiLoggingEnabled: false,
            loggerCallback: (_level, message, containsPii) => {
              if (!containsPii) this.logger.debug(`msal: ${sanitizeMsalLog(message, secrets)}`);
            },
          },
        },
      });
    } catch (e) {
      throw this.toProviderError(e, network);
    }
    const client: TenantClient = {
      version: credential.version,
      app,
      network,
      pending: null,
      lastToken: null,
    };
    this.clients.set(tenantId, client);
    return client;
  }

  private certificateOptions(certificatePem: string, privateKeyPem: string) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certificatePem);
    } catch {
      throw new ProviderError(
        'credentials_invalid',
        'The certificate is not a PEM-encoded X.509 certificate.',
      );
    }
    let key;
    try {
      key = createPrivateKey(privateKeyPem);
    } catch {
      throw new ProviderError(
        'credentials_invalid',
        'The private key is not an unencrypted PEM private key.',
      );
    }
    if (!cert.checkPrivateKey(key)) {
      throw new ProviderError('credentials_invalid', 'The private key does not belong to the certificate.');
    }
    return {
      thumbprintSha256: certificateThumbprint(certificatePem),
      // MSAL signs with a PKCS#8 key; PKCS#1 ("BEGIN RSA PRIVATE KEY") files are converted here.
      privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
      x5c: certificatePem,
    };
  }

  private toProviderError(e: unknown, network: MsalNetwork): ProviderError {
    if (e instanceof ProviderError) return e;
    if (e instanceof TokenTransportError) return new ProviderError(e.fault, e.message);
    if (e instanceof ClientConfigurationError) {
      return new ProviderError(
        'credentials_invalid',
        `The Microsoft Graph connection settings were refused (${e.errorCode}).`,
      );
    }
    if (e instanceof AuthError) {
      const status = (e as AuthError & { status?: number }).status;
      if (status === 429)
        return new ProviderError('provider_throttled', 'Entra ID is throttling token requests.', 429);
      if (status !== undefined && status >= 500) {
        return new ProviderError(
          'provider_unavailable',
          `Entra ID answered ${status} to the token request.`,
          status,
        );
      }
      const code =
        (e as AuthError & { errorNo?: string | number }).errorNo?.toString() ??
        /AADSTS(\d+)/.exec(e.errorMessage)?.[1];
      if (code) return new ProviderError('credentials_invalid', describeAadsts(code), status);
      const last = network.lastFailure;
      if (last && 'aadsts' in last)
        return new ProviderError('credentials_invalid', describeAadsts(last.aadsts));
      if (last) return new ProviderError(last.fault, last.message);
      return new ProviderError(
        'credentials_invalid',
        `Entra ID did not issue a token (${e.errorCode || 'unknown error'}).`,
        status,
      );
    }
    return new ProviderError('provider_unavailable', 'The token request failed unexpectedly.');
  }
}

/**
 * MSAL's warnings can quote Entra's error description, which may echo the secret: the description
 * is cut out, known secrets are masked, and URLs lose their query.
 */
export function sanitizeMsalLog(message: string, secrets: string[]): string {
  let out = message.replace(/Description: [\s\S]*?( - Correlation ID|$)/g, 'Description: [omitted]$1');
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  out = out.replace(/(https?:\/\/[^\s?]+)\?\S*/g, '$1?[query]');
  return out.length > 300 ? `${out.slice(0, 297)}...` : out;
}
