import { Logger, Module } from '@nestjs/common';
import { AuditModule } from '../audit';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TenantsModule } from '../tenants';
import { EncryptionError, KeyRing, loadKeyRing, SecretBox } from './encryption';
import { GRAPH_CREDENTIALS } from './graph-credentials';
import { GraphConnectionsRepository } from './graph-connections.repository';
import { GraphConnectionsService } from './graph-connections.service';

/** A SecretBox for a deployment without keys: it starts, and refuses (readably) only when a secret is used. */
class KeylessSecretBox extends SecretBox {
  constructor(private readonly missing: EncryptionError) {
    super(new KeyRing([{ kid: 'none', key: Buffer.alloc(32) }]));
  }
  override encrypt(): string {
    throw this.missing;
  }
  override decrypt(): string {
    throw this.missing;
  }
  override isCurrent(): boolean {
    throw this.missing;
  }
  override reencrypt(): string {
    throw this.missing;
  }
}

/**
 * The tenants' Graph connections and the key ring their secrets are sealed with: database only, no
 * Redis, so the command line (rotate-encryption-key) uses it as the app does.
 */
@Module({
  imports: [TenantsModule, AuditModule],
  providers: [
    {
      provide: SecretBox,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        try {
          return new SecretBox(loadKeyRing(config));
        } catch (e) {
          if (!(e instanceof EncryptionError) || e.code !== 'key_ring_missing') throw e;
          new Logger('Graph').warn(e.message);
          return new KeylessSecretBox(e);
        }
      },
    },
    GraphConnectionsRepository,
    GraphConnectionsService,
    { provide: GRAPH_CREDENTIALS, useExisting: GraphConnectionsService },
  ],
  exports: [SecretBox, GraphConnectionsService, GRAPH_CREDENTIALS],
})
export class GraphCredentialsModule {}
