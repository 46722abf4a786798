import { KeyObject, X509Certificate, constants, randomUUID, verify } from 'node:crypto';
import type { CollectionName, GraphDoc } from './fixture';

export interface SimCertificate {
  pem: string;
  /** base64url SHA-256 of the DER certificate, as in a client assertion's `x5t#S256` header. */
  x5tS256: string;
  /** base64url SHA-1, the older `x5t` header. */
  x5t: string;
  publicKey: KeyObject;
}

export interface SimApp {
  clientId: string;
  displayName: string;
  secrets: Array<{ value: string; expiresAt: number | null }>;
  certificates: SimCertificate[];
  permissions: Set<string>;
}

export interface SimTenant {
  id: string;
  domains: string[];
  displayName: string;
  apps: Map<string, SimApp>;
  collections: Record<CollectionName, GraphDoc[]>;
  settingDefinitions: Map<string, Record<string, unknown>>;
}

export interface EntraContext {
  origin: string;
  echoSecrets: boolean;
  findTenant(ref: string): SimTenant | null;
  issueToken(tenant: SimTenant, app: SimApp): { accessToken: string; expiresIn: number };
}

export interface EntraAnswer {
  status: number;
  body: unknown;
  tenantId: string | null;
  clientId: string | null;
  credential: 'secret' | 'assertion' | 'none';
  /** The AADSTS code of a refusal. */
  errorCode?: number;
}

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
/** Entra allows some clock skew on assertion times. */
const SKEW_SECONDS = 300;

export function certificateInfo(pem: string): SimCertificate {
  const cert = new X509Certificate(pem);
  const hex = (h: string) => Buffer.from(h.replace(/:/g, ''), 'hex').toString('base64url');
  return { pem, x5tS256: hex(cert.fingerprint256), x5t: hex(cert.fingerprint), publicKey: cert.publicKey };
}

function iso(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Entra's error body: the AADSTS code leads the description, followed by trace details. */
export function entraErrorBody(origin: string, error: string, code: number, text: string): unknown {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = iso().replace('T', ' ');
  return {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${origin}/error?code=${code}`,
  };
}

export function openIdConfiguration(ctx: EntraContext, tenantRef: string): EntraAnswer {
  const tenant = ctx.findTenant(tenantRef);
  if (!tenant) {
    return {
      status: 400,
      body: entraErrorBody(ctx.origin, 'invalid_tenant', 90002, tenantNotFound(tenantRef)),
      tenantId: null,
      clientId: null,
      credential: 'none',
      errorCode: 90002,
    };
  }
  // Like Entra, the endpoints name the tenant by GUID whichever alias was asked for.
  const base = `${ctx.origin}/${tenant.id}`;
  return {
    status: 200,
    tenantId: tenant.id,
    clientId: null,
    credential: 'none',
    body: {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${ctx.origin}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'tid', 'ver', 'oid'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    },
  };
}

function tenantNotFound(ref: string): string {
  return (
    `Tenant '${ref}' not found. Check to make sure you have the correct tenant ID and are signing into ` +
    'the correct cloud. Check with your subscription administrator, this may happen if there are no ' +
    'active subscriptions for the tenant.'
  );
}

/** POST /{tenant}/oauth2/v2.0/token for the client credentials grant, with a secret or an assertion. */
export function tokenRequest(
  ctx: EntraContext,
  tenantRef: string,
  endpointUrl: string,
  form: URLSearchParams,
): EntraAnswer {
  const clientId = form.get('client_id');
  const credential = form.has('client_secret')
    ? 'secret'
    : form.has('client_assertion')
      ? 'assertion'
      : 'none';
  const tenant = ctx.findTenant(tenantRef);
  const fail = (status: number, error: string, code: number, text: string): EntraAnswer => ({
    status,
    body: entraErrorBody(ctx.origin, error, code, text),
    tenantId: tenant?.id ?? null,
    clientId,
    credential,
    errorCode: code,
  });
  if (!tenant) return fail(400, 'invalid_request', 90002, tenantNotFound(tenantRef));
  if (form.get('grant_type') !== 'client_credentials') {
    return fail(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${form.get('grant_type') ?? ''}'.`,
    );
  }
  if (!clientId) {
    return fail(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'client_id'.",
    );
  }
  const app = tenant.apps.get(clientId.toLowerCase());
  if (!app) {
    return fail(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. ` +
        'This can happen if the application has not been installed by the administrator of the tenant or ' +
        'consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.',
    );
  }
  const scopes = (form.get('scope') ?? '').split(' ');
  if (!scopes.includes(GRAPH_SCOPE)) {
    return fail(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must ` +
        'have a scope value with /.default suffixed to the resource identifier (application ID URI).',
    );
  }
  if (credential === 'secret') {
    const given = form.get('client_secret') ?? '';
    const secret = app.secrets.find((s) => s.value === given);
    if (!secret) {
      const echo = ctx.echoSecrets ? ` Submitted secret: '${given}'.` : '';
      return fail(
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret ' +
          `value, not the client secret ID, for a secret added to app '${app.clientId}'.${echo}`,
      );
    }
    if (secret.expiresAt !== null && secret.expiresAt <= Date.now()) {
      return fail(
        401,
        'invalid_client',
        7000222,
        `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to ` +
          `create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate ` +
          'credentials for added security: https://aka.ms/certCreds.',
      );
    }
  } else if (credential === 'assertion') {
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
      return fail(400, 'invalid_request', 90014, "The request body must contain 'client_assertion_type'.");
    }
    const refusal = checkAssertion(form.get('client_assertion') ?? '', app, endpointUrl);
    if (refusal) return fail(refusal.status, refusal.error, refusal.code, refusal.text);
  } else {
    return fail(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }
  const { accessToken, expiresIn } = ctx.issueToken(tenant, app);
  return {
    status: 200,
    tenantId: tenant.id,
    clientId: app.clientId,
    credential,
    body: {
      token_type: 'Bearer',
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: accessToken,
    },
  };
}

interface Refusal {
  status: number;
  error: string;
  code: number;
  text: string;
}

function decodeSegment(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A client assertion: signed by a certificate registered on the app, for this endpoint, in date. */
function checkAssertion(assertion: string, app: SimApp, endpointUrl: string): Refusal | null {
  const malformed: Refusal = {
    status: 400,
    error: 'invalid_request',
    code: 50027,
    text: 'JWT token is invalid or malformed.',
  };
  const parts = assertion.split('.');
  if (parts.length !== 3) return malformed;
  const header = decodeSegment(parts[0]);
  const claims = decodeSegment(parts[1]);
  if (!header || !claims) return malformed;
  const thumbprint = String(header['x5t#S256'] ?? header.x5t ?? '');
  const cert = app.certificates.find((c) => c.x5tS256 === thumbprint || c.x5t === thumbprint);
  if (!cert) {
    return {
      status: 401,
      error: 'invalid_client',
      code: 700027,
      text:
        'The certificate with identifier used to sign the client assertion is not registered on application. ' +
        `[Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}']`,
    };
  }
  const alg = header.alg;
  if (alg !== 'PS256' && alg !== 'RS256') return malformed;
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2], 'base64url');
  const key =
    alg === 'PS256'
      ? {
          key: cert.publicKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_AUTO,
        }
      : cert.publicKey;
  if (!verify('sha256', signed, key, signature)) {
    return {
      status: 401,
      error: 'invalid_client',
      code: 700027,
      text: 'Client assertion failed signature validation.',
    };
  }
  if (claims.aud !== endpointUrl) {
    return {
      status: 401,
      error: 'invalid_client',
      code: 700212,
      text: `The audience '${String(claims.aud)}' of the client assertion does not match the token endpoint.`,
    };
  }
  if (claims.iss !== app.clientId || claims.sub !== app.clientId) {
    return {
      status: 401,
      error: 'invalid_client',
      code: 700021,
      text: "Client assertion application identifier doesn't match 'client_id' parameter.",
    };
  }
  const now = Date.now() / 1000;
  const exp = Number(claims.exp);
  const nbf = Number(claims.nbf ?? claims.iat ?? 0);
  if (!Number.isFinite(exp) || exp + SKEW_SECONDS < now || nbf - SKEW_SECONDS > now) {
    return {
      status: 401,
      error: 'invalid_client',
      code: 700024,
      text: 'Client assertion is not within its valid time range.',
    };
  }
  return null;
}
