import { DynamicModule, Module, ModuleMetadata, Provider } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { SecretBox, loadKeyRing } from './encryption';
import { GraphConcurrencyLimiter, GraphRedis } from './graph-concurrency';
import { GRAPH_RETRY_POLICY, GraphHttpClient, GraphRetryPolicy } from './graph-http.client';
import { GraphPolicySource } from './graph-policy-source';
import { GraphTokenProvider } from './graph-token.provider';
import { GraphTransport } from './graph-transport';

export interface GraphModuleOptions {
  /** Modules the credentials provider needs. */
  imports?: ModuleMetadata['imports'];
  /** Provides GRAPH_CREDENTIALS (a GraphCredentialsProvider). */
  credentials: Provider;
  /** Shorter pauses for tests; production uses DEFAULT_GRAPH_RETRY. */
  retryPolicy?: Partial<GraphRetryPolicy>;
}

/**
 * Microsoft Graph: encrypted credentials (SecretBox), tokens, the HTTP client with its cross-process
 * concurrency limit, and the `graph` policy source. Needs APP_CONFIG and Redis; no database.
 */
@Module({})
export class GraphModule {
  static register(options: GraphModuleOptions): DynamicModule {
    return {
      module: GraphModule,
      imports: options.imports ?? [],
      providers: [
        options.credentials,
        { provide: GRAPH_RETRY_POLICY, useValue: options.retryPolicy ?? {} },
        {
          provide: SecretBox,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => new SecretBox(loadKeyRing(config)),
        },
        GraphRedis,
        {
          provide: GraphConcurrencyLimiter,
          inject: [APP_CONFIG, GraphRedis],
          useFactory: (config: AppConfig, redis: GraphRedis) =>
            new GraphConcurrencyLimiter(redis.client, {
              prefix: config.redisPrefix,
              limit: config.graph.maxConcurrency,
              // A lease only lives as long as one request; the margin covers a slow release.
              leaseMs: config.graph.timeoutMs + 10_000,
            }),
        },
        GraphTransport,
        GraphTokenProvider,
        GraphHttpClient,
        GraphPolicySource,
      ],
      exports: [SecretBox, GraphPolicySource, GraphTokenProvider],
    };
  }
}
