import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
import { SecureContext, createSecureContext, rootCertificates } from 'node:tls';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/**
 * `timeout`: no complete answer in time. `network`: the connection failed or was reset (worth a retry).
 * `tls`: the server's certificate is not trusted (not worth one).
 */
export type TransportFailure = 'timeout' | 'network' | 'tls';

export class TransportError extends Error {
  constructor(
    readonly kind: TransportFailure,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface TransportRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Default GRAPH_TIMEOUT_MS; covers connecting, sending and reading the whole answer. */
  timeoutMs?: number;
}

export interface TransportResponse {
  status: number;
  /** Lower-case names, first value of each. */
  headers: Record<string, string>;
  body: Buffer;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value[0] : value;
  }
  return out;
}

/**
 * HTTPS to Entra ID and Graph for both MSAL and the Graph client: one keep-alive agent that trusts the
 * public roots plus GRAPH_CA_FILE (the simulator's CA), so nothing depends on NODE_EXTRA_CA_CERTS.
 */
@Injectable()
export class GraphTransport implements OnModuleDestroy {
  readonly timeoutMs: number;
  private readonly agent: Agent;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.timeoutMs = config.graph.timeoutMs;
    let secureContext: SecureContext | undefined;
    if (config.graph.caFile) {
      let extra: string;
      try {
        extra = readFileSync(config.graph.caFile, 'utf8');
      } catch (e) {
        throw new Error(`GRAPH_CA_FILE could not be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      // One context, built once: an Agent given `ca` itself folds the whole CA list into every
      // request's pool key and TLS options, measured at ~10 ms a request here against ~1 ms.
      secureContext = createSecureContext({ ca: [...rootCertificates, extra] });
    }
    this.agent = new Agent({ keepAlive: true, secureContext });
  }

  send(req: TransportRequest): Promise<TransportResponse> {
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const { host } = new URL(req.url);
    return new Promise<TransportResponse>((resolve, reject) => {
      let settled = false;
      const settle = (error: TransportError | null, response?: TransportResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(response as TransportResponse);
      };
      const outgoing = request(
        req.url,
        {
          method: req.method,
          agent: this.agent,
          headers: {
            ...req.headers,
            ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            if (!res.complete) {
              settle(new TransportError('network', `the connection to ${host} closed mid-answer`));
              return;
            }
            settle(null, {
              status: res.statusCode ?? 0,
              headers: flatHeaders(res.headers),
              body: Buffer.concat(chunks),
            });
          });
          res.on('error', () =>
            settle(new TransportError('network', `the connection to ${host} closed mid-answer`)),
          );
        },
      );
      // One timer for the whole exchange: a server that accepts the connection and never answers
      // (or answers a byte a minute) ends within the limit too.
      const timer = setTimeout(() => {
        settle(new TransportError('timeout', `${host} did not answer within ${timeoutMs} ms`));
        outgoing.destroy();
      }, timeoutMs);
      outgoing.on('error', (e: NodeJS.ErrnoException) => {
        const code = e.code ?? '';
        if (TLS_CODES.has(code)) {
          settle(
            new TransportError(
              'tls',
              `the TLS certificate of ${host} is not trusted (${code}); set GRAPH_CA_FILE?`,
            ),
          );
        } else {
          settle(new TransportError('network', `connection to ${host} failed (${code || e.message})`));
        }
      });
      outgoing.end(req.body);
    });
  }

  onModuleDestroy(): void {
    this.agent.destroy();
  }
}
