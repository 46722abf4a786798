import { Injectable } from '@nestjs/common';
import { Db, type Sql } from '../database/db';
import { Dialect } from '../database/dialect';
import { readDate, readNum, readNumOrNull } from '../database/sql';

export type CredentialType = 'secret' | 'certificate';

/** A graph_connections row as stored: secrets still in their envelopes. */
export interface StoredConnection {
  tenantId: number;
  clientId: string;
  credentialType: CredentialType;
  clientSecretEnc: string | null;
  /** YYYY-MM-DD */
  secretExpiresOn: string | null;
  certificatePem: string | null;
  certificateThumbprint: string | null;
  certificateExpiresAt: Date | null;
  privateKeyEnc: string | null;
  version: string;
  updatedAt: Date;
  updatedBy: number | null;
}

const COLUMNS =
  'tenant_id, client_id, credential_type, client_secret_enc, secret_expires_on, certificate_pem, certificate_thumbprint, certificate_expires_at, private_key_enc, version, updated_at, updated_by';

/** The graph_connections table: the only place that reads it. */
@Injectable()
export class GraphConnectionsRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async byTenant(tenantId: number, db: Sql = this.db): Promise<StoredConnection | null> {
    const [row] = await db.query(`SELECT ${COLUMNS} FROM graph_connections WHERE tenant_id = ?`, [tenantId]);
    return row ? toStored(row) : null;
  }

  async all(): Promise<StoredConnection[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM graph_connections ORDER BY tenant_id`)).map(toStored);
  }

  async save(c: StoredConnection, db: Sql = this.db): Promise<void> {
    const u = this.dialect.upsert(
      'graph_connections',
      COLUMNS.split(', '),
      [
        [
          c.tenantId,
          c.clientId,
          c.credentialType,
          c.clientSecretEnc,
          c.secretExpiresOn,
          c.certificatePem,
          c.certificateThumbprint,
          c.certificateExpiresAt ? this.dialect.date(c.certificateExpiresAt) : null,
          c.privateKeyEnc,
          c.version,
          this.dialect.date(c.updatedAt),
          c.updatedBy,
        ],
      ],
      ['tenant_id'],
      COLUMNS.split(', ').filter((k) => k !== 'tenant_id'),
    );
    await db.exec(u.sql, u.params);
  }

  /** Rewrites the two envelopes of a row (key rotation), leaving everything else as it is. */
  async setEnvelopes(
    tenantId: number,
    clientSecretEnc: string | null,
    privateKeyEnc: string | null,
    db: Sql = this.db,
  ): Promise<void> {
    await db.exec(
      'UPDATE graph_connections SET client_secret_enc = ?, private_key_enc = ? WHERE tenant_id = ?',
      [clientSecretEnc, privateKeyEnc, tenantId],
    );
  }
}

function toStored(r: Record<string, unknown>): StoredConnection {
  return {
    tenantId: readNum(r.tenant_id),
    clientId: String(r.client_id),
    credentialType: r.credential_type as CredentialType,
    clientSecretEnc: (r.client_secret_enc as string | null) ?? null,
    secretExpiresOn: (r.secret_expires_on as string | null) ?? null,
    certificatePem: (r.certificate_pem as string | null) ?? null,
    certificateThumbprint: (r.certificate_thumbprint as string | null) ?? null,
    certificateExpiresAt: readDate(r.certificate_expires_at),
    privateKeyEnc: (r.private_key_enc as string | null) ?? null,
    version: String(r.version),
    updatedAt: readDate(r.updated_at)!,
    updatedBy: readNumOrNull(r.updated_by),
  };
}
