import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  COLLECTIONS,
  CollectionSpec,
  DEFAULT_PAGE_SIZE,
  GraphVersion,
  NavSpec,
  SETTING_DEFINITIONS_PATH,
  SETTING_DEFINITIONS_PERMISSIONS,
} from './collections';
import {
  EntraAnswer,
  EntraContext,
  SimApp,
  SimTenant,
  certificateInfo,
  entraErrorBody,
  openIdConfiguration,
  tokenRequest,
} from './entra';
import { ActiveFault, FaultAction, FaultRule, matchFault } from './faults';
import { COLLECTION_NAMES, CollectionName, GraphDoc, TenantFixture, fixturePolicyCount } from './fixture';
import { Derived, ExpandTree, ODataQueryError, checkExpand, parseExpand, shape } from './odata';

export const CA_FILE = join(__dirname, 'certs', 'ca.crt');
const SERVER_CERT = join(__dirname, 'certs', 'server.crt');
const SERVER_KEY = join(__dirname, 'certs', 'server.key');

const GRAPH_CONTENT_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const ENTRA_CONTENT_TYPE = 'application/json; charset=utf-8';

export interface GraphSimulatorOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  tenants?: TenantFixture[];
  /** `expires_in` of issued access tokens; default 3599 as Entra. */
  tokenLifetimeSeconds?: number;
  /** Entra's error descriptions echo the submitted client secret (real services sometimes echo input). */
  echoSecrets?: boolean;
  /** Added before every Graph answer, so that requests overlap as they would over a real network. */
  latencyMs?: number;
  /** Page sizes by collection (`configurationPolicies`) or sub-collection (`configurationPolicies.settings`). */
  pageSizes?: Record<string, number>;
}

export type Service = 'entra' | 'graph' | 'other';

export interface RequestLogEntry {
  /** Epoch ms when the request arrived. */
  at: number;
  service: Service;
  method: string;
  /** Path and query as sent. */
  path: string;
  /** Tenant GUID: from the path (Entra) or the access token (Graph). */
  tenantId: string | null;
  /** App id: from the form (Entra) or the access token (Graph). */
  clientId: string | null;
  clientRequestId: string | null;
  requestId: string;
  /** `null` while unanswered, and for requests never answered (reset, hang, client gave up). */
  status: number | null;
  /** Requests of this service and tenant in flight when this one arrived, itself included. */
  inFlight: number;
  durationMs: number | null;
  fault: FaultAction['kind'] | null;
}

export interface TokenRequestEntry {
  at: number;
  tenantId: string | null;
  clientId: string | null;
  credential: 'secret' | 'assertion' | 'none';
  status: number;
  /** The AADSTS code of a refusal. */
  errorCode: number | null;
  /** Entra's description of a refusal, as sent (it echoes the secret with `echoSecrets`). */
  errorDescription: string | null;
  /** The form as posted: tests check what crossed the wire. */
  body: string;
}

export interface AddAppOptions {
  clientId?: string;
  displayName?: string;
  /** Default: a generated secret; `null` for an app with no secret. */
  secret?: string | null;
  secretExpiresAt?: Date | string | null;
  certificatePem?: string;
  permissions?: string[];
}

interface IssuedToken {
  tenantId: string;
  clientId: string;
  expiresAt: number;
  revoked: boolean;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface RequestIds {
  requestId: string;
  clientRequestId: string;
}

class GraphFailure extends Error {
  constructor(readonly answer: Answer) {
    super('graph error answer');
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isoSeconds(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, '');
}

function graphError(status: number, code: string, message: string, ids: RequestIds): Answer {
  return {
    status,
    body: {
      error: {
        code,
        message,
        innerError: {
          date: isoSeconds(),
          'request-id': ids.requestId,
          'client-request-id': ids.clientRequestId,
        },
      },
    },
  };
}

/** Intune wraps its messages in a JSON string, a detail clients must cope with. */
function intuneMessage(message: string, ids: RequestIds, path: string): string {
  return JSON.stringify({
    _version: 3,
    Message:
      `${message} - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - ` +
      `Activity ID: ${ids.clientRequestId} - Url: https://fef.msua06.manage.microsoft.com/${path}` +
      '?api-version=5024-10-25 - CustomApiErrorPhrase: ',
    CustomApiErrorPhrase: '',
    RetryAfter: null,
    ErrorSourceService: '',
    HttpHeaders: '{}',
  });
}

const FAULT_ERRORS: Record<number, [string, string]> = {
  429: ['TooManyRequests', 'Too many requests. Please retry after some time.'],
  500: ['InternalServerError', 'An internal server error occurred.'],
  502: ['BadGateway', 'The gateway received an invalid response.'],
  503: ['ServiceUnavailable', 'The service is temporarily unavailable. Please retry later.'],
  504: ['GatewayTimeout', 'The gateway did not receive a response in time.'],
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function randomSecret(): string {
  // The shape of an Entra client secret: 3 characters, "8Q~", then 34 more.
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~';
  const pick = (n: number) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
  return `${pick(3)}8Q~${pick(34)}`;
}

/**
 * A local HTTPS stand-in for Entra ID (client credentials) and the Microsoft Graph endpoints that read
 * Intune and conditional access policies, with faults, a request log and a programmatic API for tests.
 * One origin serves both: it is the authority host and the Graph base URL.
 */
export class GraphSimulator {
  readonly caFile = CA_FILE;
  tokenLifetimeSeconds: number;
  echoSecrets: boolean;
  latencyMs: number;
  readonly pageSizes: Record<string, number>;

  private readonly tenants = new Map<string, SimTenant>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly faults: ActiveFault[] = [];
  private nextFaultId = 1;
  private readonly requestLog: RequestLogEntry[] = [];
  private readonly tokenLog: TokenRequestEntry[] = [];
  private readonly inFlight = new Map<string, number>();
  private readonly skipTokens = new Map<string, { offset: number; created: number }>();
  private readonly signingKey = randomBytes(32);

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    options: GraphSimulatorOptions,
  ) {
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;
    this.echoSecrets = options.echoSecrets ?? false;
    this.latencyMs = options.latencyMs ?? 0;
    this.pageSizes = { ...options.pageSizes };
    for (const fixture of options.tenants ?? []) this.addTenant(fixture);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.onRequest(req, res).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': GRAPH_CONTENT_TYPE });
        res.end(JSON.stringify({ error: { code: 'SimulatorBug', message: String(e) } }));
      });
    });
  }

  static async start(options: GraphSimulatorOptions = {}): Promise<GraphSimulator> {
    const server = createServer({ cert: readFileSync(SERVER_CERT), key: readFileSync(SERVER_KEY) });
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new GraphSimulator(server, `https://${host}:${port}`, options);
  }

  /** The authority host (`GRAPH_AUTHORITY_HOST`). */
  get authorityHost(): string {
    return this.origin;
  }

  /** The Graph base URL (`GRAPH_BASE_URL`). */
  get graphBaseUrl(): string {
    return this.origin;
  }

  /** Closes every connection, hung ones included. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- tenants, apps, permissions -------------------------------------------------------------

  /** Adds (or replaces) a tenant; its data is copied, so a fixture object can be reused. Returns its id. */
  addTenant(fixture: TenantFixture): string {
    const collections = Object.fromEntries(
      COLLECTION_NAMES.map((name) => [name, structuredClone(fixture.collections[name] ?? [])]),
    ) as Record<CollectionName, GraphDoc[]>;
    const tenant: SimTenant = {
      id: fixture.tenantId.toLowerCase(),
      domains: (fixture.domains ?? []).map((d) => d.toLowerCase()),
      displayName: fixture.displayName ?? fixture.domains?.[0] ?? fixture.tenantId,
      apps: new Map(),
      collections,
      settingDefinitions: new Map(
        (fixture.settingDefinitions ?? []).map((d) => [String(d.id), structuredClone(d)] as const),
      ),
    };
    this.tenants.set(tenant.id, tenant);
    for (const app of fixture.apps ?? []) {
      const [first, ...more] = app.secrets ?? [];
      const added = this.addApp(tenant.id, {
        clientId: app.clientId,
        displayName: app.displayName,
        secret: first?.value ?? null,
        secretExpiresAt: first?.expiresAt ?? null,
        permissions: app.permissions,
      });
      const registered = this.app(tenant.id, added.clientId);
      for (const s of more) {
        registered.secrets.push({ value: s.value, expiresAt: s.expiresAt ? Date.parse(s.expiresAt) : null });
      }
      for (const pem of app.certificates ?? []) registered.certificates.push(certificateInfo(pem));
    }
    return tenant.id;
  }

  /** Registers an app in a tenant (consented there); returns its client id and secret. */
  addApp(tenantRef: string, options: AddAppOptions = {}): { clientId: string; clientSecret: string | null } {
    const tenant = this.tenant(tenantRef);
    const clientId = (options.clientId ?? randomUUID()).toLowerCase();
    const secret = options.secret === undefined ? randomSecret() : options.secret;
    const expires = options.secretExpiresAt ? new Date(options.secretExpiresAt).getTime() : null;
    tenant.apps.set(clientId, {
      clientId,
      displayName: options.displayName ?? 'Tenant Operations Hub',
      secrets: secret === null ? [] : [{ value: secret, expiresAt: expires }],
      certificates: options.certificatePem ? [certificateInfo(options.certificatePem)] : [],
      permissions: new Set(options.permissions ?? []),
    });
    return { clientId, clientSecret: secret };
  }

  /** Adds a client secret to an app (as a second secret would be, during rotation). */
  addSecret(tenantRef: string, clientId: string, value: string, expiresAt?: Date | string): void {
    this.app(tenantRef, clientId).secrets.push({
      value,
      expiresAt: expiresAt ? new Date(expiresAt).getTime() : null,
    });
  }

  /** Makes every secret of an app expire at `at` (default: long ago). */
  expireSecrets(tenantRef: string, clientId: string, at: Date = new Date(0)): void {
    for (const s of this.app(tenantRef, clientId).secrets) s.expiresAt = at.getTime();
  }

  addCertificate(tenantRef: string, clientId: string, pem: string): void {
    this.app(tenantRef, clientId).certificates.push(certificateInfo(pem));
  }

  grant(tenantRef: string, clientId: string, ...permissions: string[]): void {
    for (const p of permissions) this.app(tenantRef, clientId).permissions.add(p);
  }

  revoke(tenantRef: string, clientId: string, ...permissions: string[]): void {
    for (const p of permissions) this.app(tenantRef, clientId).permissions.delete(p);
  }

  permissions(tenantRef: string, clientId: string): string[] {
    return [...this.app(tenantRef, clientId).permissions].sort();
  }

  /** Revokes issued access tokens (all, or a tenant's, or one app's); returns how many. */
  revokeTokens(filter: { tenant?: string; clientId?: string } = {}): number {
    const tenantId = filter.tenant ? this.tenant(filter.tenant).id : undefined;
    let n = 0;
    for (const t of this.tokens.values()) {
      if (t.revoked) continue;
      if (tenantId && t.tenantId !== tenantId) continue;
      if (filter.clientId && t.clientId !== filter.clientId.toLowerCase()) continue;
      t.revoked = true;
      n++;
    }
    return n;
  }

  // ---- data ------------------------------------------------------------------------------------

  /** The live documents of a collection: change them to change what Graph serves. */
  collection(tenantRef: string, name: CollectionName): GraphDoc[] {
    return this.tenant(tenantRef).collections[name];
  }

  /** Removes a policy; false when there was none with that id. */
  deletePolicy(tenantRef: string, name: CollectionName, id: string): boolean {
    const docs = this.collection(tenantRef, name);
    const at = docs.findIndex((d) => d.id === id);
    if (at === -1) return false;
    docs.splice(at, 1);
    return true;
  }

  /** Replaces the policy with this id, or appends it. */
  putPolicy(tenantRef: string, name: CollectionName, doc: GraphDoc): void {
    const docs = this.collection(tenantRef, name);
    const at = docs.findIndex((d) => d.id === doc.id);
    if (at === -1) docs.push(doc);
    else docs[at] = doc;
  }

  policyCount(tenantRef: string): number {
    const tenant = this.tenant(tenantRef);
    return fixturePolicyCount({ tenantId: tenant.id, collections: tenant.collections });
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** Adds a fault rule; returns a function that removes it. */
  addFault(rule: FaultRule): () => void {
    const fault: ActiveFault = { id: this.nextFaultId++, rule, seen: 0 };
    this.faults.push(fault);
    return () => {
      const at = this.faults.indexOf(fault);
      if (at !== -1) this.faults.splice(at, 1);
    };
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  // ---- log -------------------------------------------------------------------------------------

  requests(filter: { service?: Service; tenant?: string } = {}): RequestLogEntry[] {
    const tenantId = filter.tenant ? this.tenant(filter.tenant).id : undefined;
    return this.requestLog.filter(
      (e) => (!filter.service || e.service === filter.service) && (!tenantId || e.tenantId === tenantId),
    );
  }

  tokenRequests(filter: { tenant?: string; clientId?: string } = {}): TokenRequestEntry[] {
    const tenantId = filter.tenant ? this.tenant(filter.tenant).id : undefined;
    return this.tokenLog.filter(
      (e) =>
        (!tenantId || e.tenantId === tenantId) &&
        (!filter.clientId || e.clientId?.toLowerCase() === filter.clientId.toLowerCase()),
    );
  }

  tokenRequestCount(filter: { tenant?: string; clientId?: string } = {}): number {
    return this.tokenRequests(filter).length;
  }

  /** The most requests of one service that were in flight at once for a tenant. */
  maxInFlight(tenantRef: string, service: Service = 'graph'): number {
    return this.requests({ service, tenant: tenantRef }).reduce((m, e) => Math.max(m, e.inFlight), 0);
  }

  clearLog(): void {
    this.requestLog.length = 0;
    this.tokenLog.length = 0;
  }

  // ---- request handling --------------------------------------------------------------------------

  private tenant(ref: string): SimTenant {
    const tenant = this.findTenant(ref);
    if (!tenant) throw new Error(`Graph simulator: no tenant ${ref}`);
    return tenant;
  }

  private app(tenantRef: string, clientId: string): SimApp {
    const app = this.tenant(tenantRef).apps.get(clientId.toLowerCase());
    if (!app) throw new Error(`Graph simulator: no app ${clientId} in tenant ${tenantRef}`);
    return app;
  }

  findTenant(ref: string): SimTenant | null {
    const key = ref.toLowerCase();
    const byId = this.tenants.get(key);
    if (byId) return byId;
    for (const t of this.tenants.values()) if (t.domains.includes(key)) return t;
    return null;
  }

  private get entra(): EntraContext {
    return {
      origin: this.origin,
      echoSecrets: this.echoSecrets,
      findTenant: (ref) => this.findTenant(ref),
      issueToken: (tenant, app) => this.issueToken(tenant, app),
    };
  }

  private issueToken(tenant: SimTenant, app: SimApp): { accessToken: string; expiresIn: number } {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = this.tokenLifetimeSeconds;
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const head = part({ typ: 'JWT', alg: 'HS256' });
    const claims = part({
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${tenant.id}/`,
      iat: now,
      nbf: now,
      exp: now + expiresIn,
      app_displayname: app.displayName,
      appid: app.clientId,
      idtyp: 'app',
      oid: randomUUID(),
      roles: [...app.permissions],
      tid: tenant.id,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    });
    const signature = createHmac('sha256', this.signingKey).update(`${head}.${claims}`).digest('base64url');
    const accessToken = `${head}.${claims}.${signature}`;
    this.tokens.set(accessToken, {
      tenantId: tenant.id,
      clientId: app.clientId,
      expiresAt: (now + expiresIn) * 1000,
      revoked: false,
    });
    return { accessToken, expiresIn };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? '/', this.origin);
    const method = (req.method ?? 'GET').toUpperCase();
    const body = method === 'POST' ? await readBody(req) : '';
    const header = req.headers['client-request-id'];
    const sentRequestId = typeof header === 'string' ? header : null;
    const ids: RequestIds = { requestId: randomUUID(), clientRequestId: sentRequestId ?? '' };
    ids.clientRequestId ||= ids.requestId;

    const route = this.route(method, url, req, body, ids);
    const entry: RequestLogEntry = {
      at,
      service: route.service,
      method,
      path: url.pathname + url.search,
      tenantId: route.tenantId,
      clientId: route.clientId,
      clientRequestId: sentRequestId,
      requestId: ids.requestId,
      status: null,
      inFlight: 0,
      durationMs: null,
      fault: null,
    };
    const key = `${route.service}:${route.tenantId ?? '-'}`;
    entry.inFlight = (this.inFlight.get(key) ?? 0) + 1;
    this.inFlight.set(key, entry.inFlight);
    this.requestLog.push(entry);
    let done = false;
    const settle = (status: number | null) => {
      if (done) return;
      done = true;
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
      entry.status = status;
      entry.durationMs = Date.now() - at;
    };
    // Settled when the answer is written (below), so the log is complete before the client can read
    // it; a connection that closes first ended with no answer.
    res.on('close', () => settle(null));

    const fault = matchFault(
      this.faults,
      method,
      url.pathname,
      url.pathname + url.search,
      (ref) => route.tenantId !== null && this.findTenant(ref)?.id === route.tenantId,
    );
    const action = fault?.rule.action;
    entry.fault = action?.kind ?? null;
    const after = () => fault?.rule.after?.(this);
    if (action?.kind === 'reset') {
      req.socket.destroy();
      after();
      return;
    }
    if (action?.kind === 'hang') return;
    if (action?.kind === 'delay') await sleep(action.ms);
    if (route.service === 'graph' && this.latencyMs > 0) await sleep(this.latencyMs);

    const answer = action?.kind === 'status' ? this.faultAnswer(route.service, action, ids) : route.handle();
    let text = JSON.stringify(answer.body);
    let status = answer.status;
    if (action?.kind === 'foreignNextLink') {
      const page = answer.body as Record<string, unknown>;
      const next = page['@odata.nextLink'];
      if (typeof next === 'string') {
        const moved = new URL(next);
        text = JSON.stringify({
          ...page,
          '@odata.nextLink': `${action.origin}${moved.pathname}${moved.search}`,
        });
      }
    }
    if (action?.kind === 'malformedJson') {
      text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
      status = 200;
    }
    // The client may have given up while this answer was delayed.
    if (res.destroyed) return;
    res.writeHead(status, {
      'content-type': route.service === 'entra' ? ENTRA_CONTENT_TYPE : GRAPH_CONTENT_TYPE,
      'content-length': String(Buffer.byteLength(text)),
      'request-id': ids.requestId,
      'client-request-id': ids.clientRequestId,
      'x-ms-request-id': ids.requestId,
      'x-ms-ags-diagnostic': JSON.stringify({
        ServerInfo: { DataCenter: 'Local', Slice: 'E', Ring: '5', ScaleUnit: '000', RoleInstance: 'SIM' },
      }),
      'strict-transport-security': 'max-age=31536000',
      ...answer.headers,
    });
    settle(status);
    res.end(text, after);
  }

  private faultAnswer(service: Service, action: Extract<FaultAction, { kind: 'status' }>, ids: RequestIds) {
    const [code, message] = FAULT_ERRORS[action.status] ?? ['UnknownError', 'An error occurred.'];
    const answer: Answer =
      service === 'entra'
        ? {
            status: action.status,
            body: entraErrorBody(
              this.origin,
              action.status === 429 ? 'too_many_requests' : 'temporarily_unavailable',
              90033,
              action.message ?? 'A transient error has occurred. Please try again.',
            ),
          }
        : graphError(action.status, action.code ?? code, action.message ?? message, ids);
    if (action.retryAfter !== undefined) answer.headers = { 'retry-after': String(action.retryAfter) };
    return answer;
  }

  private route(
    method: string,
    url: URL,
    req: IncomingMessage,
    body: string,
    ids: RequestIds,
  ): { service: Service; tenantId: string | null; clientId: string | null; handle: () => Answer } {
    const path = url.pathname;
    const discovery = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (discovery && method === 'GET') {
      const ref = decodeURIComponent(discovery[1]);
      return this.entraRoute(ref, () => openIdConfiguration(this.entra, ref));
    }
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (token) {
      const ref = decodeURIComponent(token[1]);
      const form = new URLSearchParams(body);
      const route = this.entraRoute(ref, () => {
        if (method !== 'POST') {
          return {
            status: 400,
            body: entraErrorBody(
              this.origin,
              'invalid_request',
              900561,
              'The endpoint only accepts POST requests.',
            ),
            tenantId: null,
            clientId: null,
            credential: 'none',
          };
        }
        const answer = tokenRequest(this.entra, ref, `${this.origin}${path}`, form);
        this.tokenLog.push({
          at: Date.now(),
          tenantId: answer.tenantId,
          clientId: answer.clientId,
          credential: answer.credential,
          status: answer.status,
          errorCode: answer.errorCode ?? null,
          errorDescription: (answer.body as { error_description?: string }).error_description ?? null,
          body,
        });
        return answer;
      });
      return { ...route, clientId: form.get('client_id') };
    }
    const keys = /^\/([^/]+)\/discovery\/v2\.0\/keys$/.exec(path);
    if (keys) {
      return this.entraRoute(decodeURIComponent(keys[1]), () => ({
        status: 200,
        body: { keys: [] },
        tenantId: null,
        clientId: null,
        credential: 'none',
      }));
    }
    const graph = /^\/(beta|v1\.0)\/(.+)$/.exec(path);
    if (graph) {
      const auth = req.headers.authorization;
      const bearer = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
      const issued = bearer === undefined ? undefined : (this.tokens.get(bearer) ?? null);
      return {
        service: 'graph',
        tenantId: issued?.tenantId ?? null,
        clientId: issued?.clientId ?? null,
        handle: () => {
          try {
            if (method !== 'GET') {
              return graphError(405, 'Request_BadRequest', `Method ${method} is not supported here.`, ids);
            }
            return this.graph(graph[1] as GraphVersion, graph[2], url, issued, ids);
          } catch (e) {
            if (e instanceof GraphFailure) return e.answer;
            if (e instanceof ODataQueryError) return graphError(400, 'BadRequest', e.message, ids);
            throw e;
          }
        },
      };
    }
    return {
      service: 'other',
      tenantId: null,
      clientId: null,
      handle: () => graphError(404, 'NotFound', `No route for ${method} ${path}.`, ids),
    };
  }

  private entraRoute(ref: string, run: () => EntraAnswer) {
    return {
      service: 'entra' as const,
      tenantId: this.findTenant(ref)?.id ?? null,
      clientId: null,
      handle: (): Answer => {
        const answer = run();
        return { status: answer.status, body: answer.body };
      },
    };
  }

  private graph(
    version: GraphVersion,
    rest: string,
    url: URL,
    issued: IssuedToken | null | undefined,
    ids: RequestIds,
  ): Answer {
    const unauthorized = (message: string): Answer => ({
      ...graphError(401, 'InvalidAuthenticationToken', message, ids),
      headers: { 'www-authenticate': 'Bearer realm="", authorization_uri="", client_id=""' },
    });
    if (issued === undefined) return unauthorized('Access token is empty.');
    const tenant = issued && this.tenants.get(issued.tenantId);
    const app = tenant && tenant.apps.get(issued.clientId);
    if (!issued || issued.revoked || issued.expiresAt <= Date.now() || !tenant || !app) {
      return unauthorized('Access token has expired or is not yet valid.');
    }
    const segments = rest.split('/').map(decodeURIComponent);
    const base = `${this.origin}/${version}/$metadata#`;

    if (rest.startsWith(`${SETTING_DEFINITIONS_PATH}/`) && version === 'beta') {
      this.requirePermission(app, SETTING_DEFINITIONS_PERMISSIONS, 'intune', rest, ids);
      return this.settingDefinition(tenant, segments[2], base, ids, rest);
    }
    const spec = COLLECTIONS.find((s) => rest === s.path || rest.startsWith(`${s.path}/`));
    if (!spec || !spec.versions.includes(version)) {
      const segment = spec ? spec.path.split('/').pop() : (segments[1] ?? segments[0]);
      throw new GraphFailure(
        graphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`, ids),
      );
    }
    this.requirePermission(app, spec.permissions, spec.service, rest, ids);
    let docs = tenant.collections[spec.store];
    if (spec.odataType) docs = docs.filter((d) => d['@odata.type'] === spec.odataType);
    const params = url.searchParams;
    const derived = this.derived(tenant);
    let remaining = segments.slice(spec.path.split('/').length);
    let nav: NavSpec = spec.nav;
    let listExpand = spec.listExpand;
    let pageSize = this.pageSizes[spec.store] ?? spec.pageSize;
    let context = spec.path;
    let pageKey: string = spec.store;
    let listOptions: { select?: string[]; nulled?: string[] } = {
      select: spec.listSelect,
      nulled: spec.listNull,
    };
    for (;;) {
      if (remaining.length === 0) {
        return this.list(
          docs,
          { nav, listExpand, pageSize, context, base, url, ids, derived, ...listOptions },
          spec,
        );
      }
      const [id, navName, ...rest2] = remaining;
      const doc = docs.find((d) => d.id === id);
      if (!doc) throw new GraphFailure(this.notFound(spec, ids, rest));
      const itemContext = `${context}('${id}')`;
      if (navName === undefined) {
        const expand = parseExpand(params.get('$expand'));
        checkExpand(expand, nav, Object.keys(nav), spec.entityType);
        return {
          status: 200,
          body: {
            '@odata.context': `${base}${context}/$entity`,
            ...shape(doc, nav, expand, { contextBase: `${base}${itemContext}`, derived }),
          },
        };
      }
      const child = nav[navName];
      if (!child) {
        throw new GraphFailure(
          graphError(400, 'BadRequest', `Resource not found for the segment '${navName}'.`, ids),
        );
      }
      const childNav = child.nav ?? {};
      if (child.single) {
        const value = doc[navName];
        if (rest2.length > 0 || !value || typeof value !== 'object') {
          throw new GraphFailure(this.notFound(spec, ids, rest));
        }
        const expand = parseExpand(params.get('$expand'));
        checkExpand(expand, childNav, Object.keys(childNav), spec.entityType);
        return {
          status: 200,
          body: {
            '@odata.context': `${base}${itemContext}/${navName}/$entity`,
            ...shape(value as Record<string, unknown>, childNav, expand, {
              contextBase: `${base}${itemContext}/${navName}`,
              derived,
            }),
          },
        };
      }
      docs = (Array.isArray(doc[navName]) ? doc[navName] : []) as GraphDoc[];
      nav = childNav;
      listExpand = child.expand ?? Object.keys(childNav);
      pageKey = `${pageKey}.${navName}`;
      pageSize = this.pageSizes[pageKey] ?? child.pageSize ?? DEFAULT_PAGE_SIZE;
      context = `${itemContext}/${navName}`;
      listOptions = {};
      remaining = rest2;
    }
  }

  private requirePermission(
    app: SimApp,
    permissions: string[],
    service: CollectionSpec['service'],
    path: string,
    ids: RequestIds,
  ): void {
    if (permissions.some((p) => app.permissions.has(p))) return;
    throw new GraphFailure(
      service === 'entra'
        ? graphError(
            403,
            'Authorization_RequestDenied',
            'Insufficient privileges to complete the operation.',
            ids,
          )
        : graphError(
            403,
            'Forbidden',
            intuneMessage(
              'Application is not authorized to perform this operation. Application must have one of the ' +
                `following scopes: ${permissions.join(', ')}`,
              ids,
              path,
            ),
            ids,
          ),
    );
  }

  private notFound(spec: CollectionSpec, ids: RequestIds, path: string): Answer {
    return spec.service === 'entra'
      ? graphError(404, 'Request_ResourceNotFound', 'The requested resource does not exist.', ids)
      : graphError(404, 'ResourceNotFound', intuneMessage('An error has occurred', ids, path), ids);
  }

  private list(
    docs: GraphDoc[],
    o: {
      nav: NavSpec;
      listExpand: string[];
      pageSize: number;
      context: string;
      base: string;
      url: URL;
      ids: RequestIds;
      derived: Derived;
      select?: string[];
      nulled?: string[];
    },
    spec: CollectionSpec,
  ): Answer {
    const params = o.url.searchParams;
    // Graph rejects $filter on some of these (managedAppPolicies) and evaluates it on others; the
    // simulator evaluates none, so a client that filters server-side fails here, not in production.
    if (params.has('$filter')) {
      throw new ODataQueryError('Invalid filter clause: $filter is not supported by this endpoint.');
    }
    const expand: ExpandTree = parseExpand(params.get('$expand'));
    checkExpand(expand, o.nav, o.listExpand, spec.entityType);
    let size = o.pageSize;
    const top = params.get('$top');
    if (top !== null) {
      const n = Number(top);
      if (!Number.isInteger(n) || n < 0) throw new ODataQueryError(`Invalid value '${top}' for $top.`);
      size = Math.min(n, o.pageSize);
    }
    let offset = 0;
    const skipToken = params.get('$skiptoken');
    if (skipToken !== null) {
      const state = this.skipTokens.get(skipToken);
      if (!state) throw new ODataQueryError('The skip token is invalid or has expired.');
      offset = state.offset;
    }
    const page = docs.slice(offset, offset + size);
    const contextBase = `${o.base}${o.context}`;
    const body: Record<string, unknown> = {
      '@odata.context': `${contextBase}${expandSuffix(expand)}`,
    };
    if (offset + size < docs.length && size > 0) {
      const token = this.newSkipToken(offset + size);
      const kept = o.url.search
        .slice(1)
        .split('&')
        .filter((p) => p && !/^(\$|%24)skiptoken=/i.test(p));
      kept.push(`$skiptoken=${token}`);
      body['@odata.nextLink'] = `${this.origin}${o.url.pathname}?${kept.join('&')}`;
    }
    body.value = page.map((doc) =>
      shape(doc, o.nav, expand, {
        contextBase: `${contextBase}('${doc.id}')`,
        select: o.select,
        nulled: o.nulled,
        derived: o.derived,
      }),
    );
    return { status: 200, body };
  }

  private newSkipToken(offset: number): string {
    if (this.skipTokens.size > 10_000) {
      const cutoff = Date.now() - 600_000;
      for (const [k, v] of this.skipTokens) if (v.created < cutoff) this.skipTokens.delete(k);
    }
    const token = randomBytes(24).toString('base64url');
    this.skipTokens.set(token, { offset, created: Date.now() });
    return token;
  }

  private settingDefinition(
    tenant: SimTenant,
    id: string | undefined,
    base: string,
    ids: RequestIds,
    path: string,
  ) {
    const definition = id === undefined ? undefined : tenant.settingDefinitions.get(id);
    if (!definition) {
      return graphError(404, 'ResourceNotFound', intuneMessage('An error has occurred', ids, path), ids);
    }
    return {
      status: 200,
      body: { '@odata.context': `${base}deviceManagement/configurationSettings/$entity`, ...definition },
    };
  }

  /** A setting's definitions: those of every definition id its instance (children included) names. */
  private derived(tenant: SimTenant): Derived {
    return {
      settingDefinitions: (setting) => {
        const ids = new Set<string>();
        const walk = (node: unknown): void => {
          if (Array.isArray(node)) node.forEach(walk);
          else if (node && typeof node === 'object') {
            for (const [key, value] of Object.entries(node)) {
              if (key === 'settingDefinitionId' && typeof value === 'string') ids.add(value);
              else walk(value);
            }
          }
        };
        walk(setting.settingInstance);
        return [...ids].flatMap((id) => tenant.settingDefinitions.get(id) ?? []);
      },
    };
  }
}

function expandSuffix(expand: ExpandTree): string {
  if (expand.size === 0) return '';
  const parts = [...expand].map(
    ([name, children]) => `${name}${children.size ? expandSuffix(children) : '()'}`,
  );
  return `(${parts.join(',')})`;
}
