import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from '../migration-helpers';

/**
 * One Microsoft Graph connection per tenant: the app registration's client id and its credential, a
 * client secret or a certificate. Secrets (the client secret, the certificate's private key) are
 * stored only as encrypted envelopes bound to their tenant and column; the certificate itself is
 * public and kept as PEM, with its thumbprint and expiry for the page.
 */
export class GraphConnections1765100000000 implements MigrationInterface {
  name = 'GraphConnections1765100000000';

  async up(q: QueryRunner): Promise<void> {
    const c = columns(q);
    await q.createTable(
      new Table({
        name: 'graph_connections',
        columns: [
          { ...c.ref('tenant_id'), isPrimary: true },
          c.str('client_id', 64),
          c.str('credential_type', 16),
          c.text('client_secret_enc', true),
          c.str('secret_expires_on', 10, true),
          c.text('certificate_pem', true),
          c.str('certificate_thumbprint', 64, true),
          c.datetime('certificate_expires_at', true),
          c.text('private_key_enc', true),
          c.str('version', 36),
          c.datetime('updated_at'),
          c.ref('updated_by', true),
        ],
        foreignKeys: [
          {
            columnNames: ['tenant_id'],
            referencedTableName: 'tenants',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('graph_connections');
  }
}
