import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ProviderError } from '../policies/policy-source';
import { GraphConcurrencyLimiter } from './graph-concurrency';
import type { GraphCredential } from './graph-credentials';
import { GraphTokenProvider } from './graph-token.provider';
import { GraphTransport, TransportError, TransportResponse } from './graph-transport';

/** Whose Graph is read: the app's tenant id (for its token) and its credential. */
export interface GraphTarget {
  tenantId: number;
  credential: GraphCredential;
}

/** A pause before the next attempt, for a "waiting to retry (throttled) — next attempt in 24 s" line. */
export interface GraphWait {
  reason: 'throttled' | 'unavailable';
  ms: number;
  /** The attempt that follows the pause (2 to `attempts`). */
  attempt: number;
}

export interface GraphRequestOptions {
  /** 404 answers `null` (the item is gone) instead of failing. */
  allowNotFound?: boolean;
  /** What a 403 names: the policy type and the application permission to grant. */
  access?: { label: string; permission: string };
  onWait?: (wait: GraphWait) => void;
}

export interface GraphRetryPolicy {
  /** Attempts per logical request, the first included. */
  attempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Longest `Retry-After` honoured; a longer one ends the request as throttled. */
  maxRetryAfterMs: number;
}

export const DEFAULT_GRAPH_RETRY: GraphRetryPolicy = {
  attempts: 5,
  backoffBaseMs: 1000,
  backoffMaxMs: 30_000,
  maxRetryAfterMs: 120_000,
};

/** Optional override of DEFAULT_GRAPH_RETRY (tests shorten the pauses). */
export const GRAPH_RETRY_POLICY = Symbol('GRAPH_RETRY_POLICY');

/** A runaway chain of next links ends here instead of looping forever. */
const MAX_PAGES = 10_000;
const RETRYABLE = new Set([429, 500, 502, 503, 504]);

interface Retry {
  reason: GraphWait['reason'];
  /** Thrown when no attempt is left. */
  error: ProviderError;
  retryAfterMs?: number;
  what: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function errorCode(body: Buffer): string {
  try {
    const code = (JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' && /^[A-Za-z_]{1,60}$/.test(code) ? code : '';
  } catch {
    return '';
  }
}

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * GET JSON from Graph the way Graph asks clients to behave: one `client-request-id` per logical request
 * kept across its retries, `Retry-After` honoured on 429/503, exponential backoff with jitter
 * otherwise, a per-request timeout, one token refresh on 401, `@odata.nextLink` followed only on
 * GRAPH_BASE_URL's origin, and at most GRAPH_MAX_CONCURRENCY requests in flight per tenant across
 * processes. Failures end as ProviderErrors with catalogued reasons and readable messages.
 */
@Injectable()
export class GraphHttpClient {
  private readonly logger = new Logger('GraphHttp');
  private readonly base: URL;
  private readonly retry: GraphRetryPolicy;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly transport: GraphTransport,
    private readonly tokens: GraphTokenProvider,
    private readonly limiter: GraphConcurrencyLimiter,
    @Optional() @Inject(GRAPH_RETRY_POLICY) retry?: Partial<GraphRetryPolicy>,
  ) {
    this.base = new URL(config.graph.baseUrl);
    this.retry = { ...DEFAULT_GRAPH_RETRY, ...retry };
  }

  /** Gets a token now, so that a credentials problem shows before any Graph request. */
  async ensureToken(target: GraphTarget): Promise<void> {
    await this.tokens.accessToken(target.tenantId, target.credential);
  }

  /** One JSON document; `null` only for a 404 with `allowNotFound`. */
  async get<T>(target: GraphTarget, pathOrUrl: string, options: GraphRequestOptions = {}): Promise<T | null> {
    const url = this.resolve(pathOrUrl);
    const path = url.pathname;
    const clientRequestId = randomUUID();
    let rejected: string | undefined;
    let refreshed = false;
    let attempt = 1;
    for (;;) {
      const outcome = await this.attempt(target, url, rejected, clientRequestId);
      rejected = undefined;
      let retry: Retry;
      if ('retry' in outcome) retry = outcome.retry;
      else {
        const { res, token } = outcome;
        const requestId = res.headers['request-id'] ?? '-';
        if (res.status >= 200 && res.status < 300) return this.parse<T>(res, path, requestId);
        if (res.status === 404 && options.allowNotFound) return null;
        if (res.status === 401 && !refreshed) {
          // The token may have been revoked or expired early: one new token, then it is the credential.
          refreshed = true;
          rejected = token;
          continue;
        }
        retry = this.refusal(res, path, requestId, options);
      }
      if (attempt >= this.retry.attempts) {
        this.logger.warn(`GET ${path} gave up after ${attempt} attempts: ${retry.what}`);
        throw retry.error;
      }
      if (retry.retryAfterMs !== undefined && retry.retryAfterMs > this.retry.maxRetryAfterMs) {
        throw new ProviderError(
          retry.error.reasonCode,
          `Graph asked to wait ${Math.ceil(retry.retryAfterMs / 1000)} s before retrying GET ${path}, ` +
            `longer than the ${this.retry.maxRetryAfterMs / 1000} s this client waits.`,
          retry.error.status,
        );
      }
      const ms = retry.retryAfterMs ?? this.backoff(attempt);
      attempt++;
      this.logger.warn(
        `GET ${path}: ${retry.what}; attempt ${attempt}/${this.retry.attempts} in ${ms} ms (client-request-id ${clientRequestId})`,
      );
      options.onWait?.({ reason: retry.reason, ms, attempt });
      await sleep(ms);
    }
  }

  /**
   * Every item of a collection, following `@odata.nextLink` exactly as given until it is absent.
   * `null` only for a 404 with `allowNotFound` (the parent is gone).
   */
  async getAll<T>(target: GraphTarget, path: string, options: GraphRequestOptions = {}): Promise<T[] | null> {
    const items: T[] = [];
    const seen = new Set<string>();
    let next = path;
    for (let page = 1; ; page++) {
      const body = await this.get<{ value?: unknown; '@odata.nextLink'?: unknown }>(target, next, options);
      if (body === null) return null;
      if (!Array.isArray(body.value)) {
        throw new ProviderError(
          'provider_unavailable',
          `Graph answered GET ${new URL(next, this.base).pathname} without a list.`,
        );
      }
      items.push(...(body.value as T[]));
      const link = body['@odata.nextLink'];
      if (typeof link !== 'string' || link === '') return items;
      if (seen.has(link) || page >= MAX_PAGES) {
        throw new ProviderError(
          'provider_unavailable',
          `Graph kept sending next-page links for ${new URL(path, this.base).pathname}.`,
        );
      }
      seen.add(link);
      next = link;
    }
  }

  /** A path on GRAPH_BASE_URL, or a next link, which must stay on its origin: the token goes with it. */
  private resolve(pathOrUrl: string): URL {
    const url = new URL(pathOrUrl, this.base);
    if (url.origin !== this.base.origin) {
      throw new ProviderError(
        'provider_unavailable',
        `Graph sent a next-page link to another host (${url.host}); paging stopped so the access token is not sent there.`,
      );
    }
    return url;
  }

  /** One try: a token, a slot, the exchange. A failure that is final is thrown; others come back as a Retry. */
  private async attempt(
    target: GraphTarget,
    url: URL,
    rejected: string | undefined,
    clientRequestId: string,
  ): Promise<{ token: string; res: TransportResponse } | { retry: Retry }> {
    try {
      const token = await this.tokens.accessToken(target.tenantId, target.credential, rejected);
      return { token, res: await this.send(target, url, token, clientRequestId) };
    } catch (e) {
      return { retry: this.failure(e, url.pathname, clientRequestId) };
    }
  }

  private async send(
    target: GraphTarget,
    url: URL,
    token: string,
    clientRequestId: string,
  ): Promise<TransportResponse> {
    const lease = await this.limiter.acquire(target.credential.microsoftTenantId);
    const started = Date.now();
    try {
      const res = await this.transport.send({
        method: 'GET',
        url: url.href,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'client-request-id': clientRequestId,
          'return-client-request-id': 'true',
        },
      });
      this.logger.debug(
        `GET ${url.pathname} ${res.status} in ${Date.now() - started} ms ` +
          `(request-id ${res.headers['request-id'] ?? '-'}, client-request-id ${clientRequestId})`,
      );
      return res;
    } finally {
      void lease.release();
    }
  }

  private parse<T>(res: TransportResponse, path: string, requestId: string): T {
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch {
      // A complete 200 that is not JSON is a fault of the service, not a passing state: no retry.
      throw new ProviderError(
        'provider_unavailable',
        `Graph answered GET ${path} with a body that is not valid JSON (request-id ${requestId}).`,
        res.status,
      );
    }
  }

  /** An error answer: thrown when final, or what to retry. */
  private refusal(
    res: TransportResponse,
    path: string,
    requestId: string,
    options: GraphRequestOptions,
  ): Retry {
    const code = errorCode(res.body);
    const label = `${res.status}${code ? ` ${code}` : ''}`;
    if (res.status === 401) {
      throw new ProviderError(
        'credentials_invalid',
        'Graph refused a freshly issued access token (401); check that the app registration is consented in this tenant.',
        401,
      );
    }
    if (res.status === 403) {
      throw new ProviderError(
        'permission_denied',
        options.access
          ? `Reading ${options.access.label} needs the application permission ${options.access.permission} (grant admin consent).`
          : `Graph refused GET ${path} (${label}).`,
        403,
      );
    }
    if (res.status === 404) throw new ProviderError('not_found', `Graph has no ${path} (${label}).`, 404);
    if (!RETRYABLE.has(res.status)) {
      throw new ProviderError(
        'provider_unavailable',
        `Graph refused GET ${path} (${label}, request-id ${requestId}).`,
        res.status,
      );
    }
    const throttled = res.status === 429;
    return {
      reason: throttled ? 'throttled' : 'unavailable',
      retryAfterMs: retryAfterMs(res.headers['retry-after']),
      what: `${label} (request-id ${requestId})`,
      error: new ProviderError(
        throttled ? 'provider_throttled' : 'provider_unavailable',
        `Graph kept answering ${label} to GET ${path} (${this.retry.attempts} attempts, last request-id ${requestId}).`,
        res.status,
      ),
    };
  }

  /** A thrown failure (token, transport): thrown again when final, or what to retry. */
  private failure(e: unknown, path: string, clientRequestId: string): Retry {
    if (e instanceof ProviderError) {
      if (e.reasonCode !== 'provider_throttled' && e.reasonCode !== 'provider_unavailable') throw e;
      return {
        reason: e.reasonCode === 'provider_throttled' ? 'throttled' : 'unavailable',
        error: e,
        what: e.message,
      };
    }
    if (e instanceof TransportError) {
      if (e.kind === 'timeout') {
        // The hung request already took the whole budget; the job's own retry decides what comes next.
        throw new ProviderError(
          'timeout',
          `Graph did not answer GET ${path} within ${this.transport.timeoutMs} ms (client-request-id ${clientRequestId}).`,
        );
      }
      const error = new ProviderError(
        'provider_unavailable',
        `Could not reach Graph for GET ${path}: ${e.message}.`,
      );
      if (e.kind === 'tls') throw error;
      return { reason: 'unavailable', error, what: e.message };
    }
    throw e;
  }

  /** Exponential with jitter: between half and all of base·2^(attempt−1), capped. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.backoffMaxMs, this.retry.backoffBaseMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }
}
