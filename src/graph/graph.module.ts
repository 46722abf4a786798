import { DynamicModule, Module, ModuleMetadata, Provider } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { GraphConcurrencyLimiter, GraphRedis } from './graph-concurrency';
import { GRAPH_RETRY_POLICY, GraphHttpClient, GraphRetryPolicy } from './graph-http.client';
import { GraphPolicySource } from './graph-policy-source';
import { GraphTokenProvider } from './graph-token.provider';
import { GraphTransport } from './graph-transport';
import { GRAPH_CREDENTIALS } from './graph-credentials';
import { GraphCredentialsModule } from './graph-credentials.module';
import { GraphConnectionsService } from './graph-connections.service';

export interface GraphModuleOptions {
  /** Modules the credentials provider needs. */
  imports?: ModuleMetadata['imports'];
  /** Provides GRAPH_CREDENTIALS (a GraphCredentialsProvider). */
  credentials: Provider;
  /** Shorter pauses for tests; production uses DEFAULT_GRAPH_RETRY. */
  retryPolicy?: Partial<GraphRetryPolicy>;
}

/**
 * Microsoft Graph: tokens, the HTTP client with its cross-process concurrency limit, and the `graph`
 * policy source, reading credentials from a GraphCredentialsProvider. Needs APP_CONFIG and Redis.
 */
@Module({})
export class GraphModule {
  /** As the app runs it: credentials from the tenants' saved connections (GraphCredentialsModule). */
  static forApp(): DynamicModule {
    return GraphModule.register({
      imports: [GraphCredentialsModule],
      credentials: { provide: GRAPH_CREDENTIALS, useExisting: GraphConnectionsService },
    });
  }

  static register(options: GraphModuleOptions): DynamicModule {
    return {
      module: GraphModule,
      imports: options.imports ?? [],
      providers: [
        options.credentials,
        {
          provide: GRAPH_RETRY_POLICY,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig): Partial<GraphRetryPolicy> => ({
            backoffBaseMs: config.graph.backoffMs,
            ...options.retryPolicy,
          }),
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
      exports: [GraphPolicySource, GraphTokenProvider],
    };
  }
}

/**
 * The app's one Graph module (one token cache, one Redis client for the concurrency limit), for
 * every module that reads Graph: import this, not GraphModule.forApp() again.
 */
@Module({ imports: [GraphModule.forApp()], exports: [GraphModule] })
export class GraphAppModule {}
