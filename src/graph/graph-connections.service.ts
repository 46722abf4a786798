import { Injectable } from '@nestjs/common';
import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { AuditService } from '../audit';
import { AppError } from '../common/app-error';
import { ProviderError } from '../policies/policy-source';
import { Db } from '../database/db';
import { type Actor, type PolicySourceName, POLICY_SOURCES, TenantsService } from '../tenants';
import { associatedData, EncryptionError, SecretBox } from './encryption';
import type { GraphCredential, GraphCredentialsProvider } from './graph-credentials';
import { CredentialType, GraphConnectionsRepository, StoredConnection } from './graph-connections.repository';

const TABLE = 'graph_connections';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_PEM = 20_000;
/** How long before a secret or certificate expires the page starts warning. */
export const EXPIRY_WARNING_DAYS = 30;

/** What the connection page shows: never a secret, only that one is set, when, by whom, until when. */
export interface ConnectionView {
  clientId: string;
  credentialType: CredentialType;
  secretExpiresOn: string | null;
  certificateThumbprint: string | null;
  certificateExpiresAt: Date | null;
  updatedAt: Date;
  updatedBy: number | null;
  /** The secret's or certificate's expiry, and whether it is near or past. */
  expiresAt: Date | null;
  expiry: 'ok' | 'soon' | 'expired' | 'unknown';
}

export interface ConnectionInput {
  client_id?: unknown;
  credential_type?: unknown;
  client_secret?: unknown;
  secret_expires_on?: unknown;
  certificate_pem?: unknown;
  private_key_pem?: unknown;
  policy_source?: unknown;
}

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/**
 * Each tenant's Microsoft Graph connection: saved from its page (secrets write-only, encrypted at rest
 * with the tenant and column as associated data), handed decrypted to the Graph client only, rotated
 * to the current key from the command line.
 */
@Injectable()
export class GraphConnectionsService implements GraphCredentialsProvider {
  constructor(
    private readonly repo: GraphConnectionsRepository,
    private readonly box: SecretBox,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly db: Db,
  ) {}

  async view(tenantId: number, now = new Date()): Promise<ConnectionView | null> {
    const c = await this.repo.byTenant(tenantId);
    if (!c) return null;
    const expiresAt =
      c.credentialType === 'secret'
        ? c.secretExpiresOn
          ? new Date(`${c.secretExpiresOn}T23:59:59Z`)
          : null
        : c.certificateExpiresAt;
    const left = expiresAt ? expiresAt.getTime() - now.getTime() : null;
    return {
      clientId: c.clientId,
      credentialType: c.credentialType,
      secretExpiresOn: c.secretExpiresOn,
      certificateThumbprint: c.certificateThumbprint,
      certificateExpiresAt: c.certificateExpiresAt,
      updatedAt: c.updatedAt,
      updatedBy: c.updatedBy,
      expiresAt,
      expiry:
        left === null
          ? 'unknown'
          : left <= 0
            ? 'expired'
            : left < EXPIRY_WARNING_DAYS * 86_400_000
              ? 'soon'
              : 'ok',
    };
  }

  /**
   * Saves the connection from its form. A secret or key left empty keeps the stored one (they are
   * write-only: the page never shows them). Every problem is named beside its field.
   */
  async save(tenantId: number, input: ConnectionInput, actor: Actor): Promise<void> {
    const tenant = await this.tenants.findById(tenantId);
    if (!tenant) throw AppError.notFound('Tenant');
    const before = await this.repo.byTenant(tenantId);
    const errors: Record<string, string> = {};
    const clientId = text(input.client_id).toLowerCase();
    if (!GUID.test(clientId))
      errors.client_id =
        "The application (client) id is a GUID, as shown on the app registration's overview.";
    const type = text(input.credential_type) as CredentialType;
    if (type !== 'secret' && type !== 'certificate')
      errors.credential_type = 'Choose a client secret or a certificate.';
    const source = text(input.policy_source || tenant.policySource) as PolicySourceName;
    if (!(POLICY_SOURCES as readonly string[]).includes(source))
      errors.policy_source = `Choose where policies come from: ${POLICY_SOURCES.join(' or ')}.`;
    else if (source === 'graph' && !tenant.microsoftTenantId)
      errors.policy_source =
        'This tenant has no Microsoft tenant id yet: a platform admin sets it on the tenant before Graph can be used.';

    const next: StoredConnection = {
      tenantId,
      clientId,
      credentialType: type,
      clientSecretEnc: null,
      secretExpiresOn: null,
      certificatePem: null,
      certificateThumbprint: null,
      certificateExpiresAt: null,
      privateKeyEnc: null,
      version: randomUUID(),
      updatedAt: new Date(),
      updatedBy: actor.id,
    };
    const keep = before && before.credentialType === type ? before : null;
    if (type === 'secret') {
      const secret = typeof input.client_secret === 'string' ? input.client_secret.trim() : '';
      const expires = text(input.secret_expires_on);
      if (secret.length > 1000) errors.client_secret = 'A client secret is at most 1,000 characters.';
      else if (secret) next.clientSecretEnc = this.seal(secret, tenantId, 'client_secret_enc');
      else if (keep?.clientSecretEnc) next.clientSecretEnc = keep.clientSecretEnc;
      else
        errors.client_secret = "Paste the client secret's value (shown once in Entra when it was created).";
      if (!DATE.test(expires) || Number.isNaN(Date.parse(`${expires}T00:00:00Z`)))
        errors.secret_expires_on = 'Give the date the secret expires (Entra shows it beside the secret).';
      else if (Date.parse(`${expires}T23:59:59Z`) < Date.now())
        errors.secret_expires_on = 'That date is past: this secret has expired. Create a new one in Entra.';
      else next.secretExpiresOn = expires;
    } else if (type === 'certificate') {
      const certPem = text(input.certificate_pem);
      const keyPem = text(input.private_key_pem);
      if (!certPem && !keyPem && keep?.certificatePem && keep.privateKeyEnc) {
        Object.assign(next, {
          certificatePem: keep.certificatePem,
          certificateThumbprint: keep.certificateThumbprint,
          certificateExpiresAt: keep.certificateExpiresAt,
          privateKeyEnc: keep.privateKeyEnc,
        });
      } else {
        const cert = this.parseCertificate(certPem, errors);
        const key = this.parsePrivateKey(keyPem, errors);
        if (cert && key) {
          if (!cert.checkPrivateKey(key))
            errors.private_key_pem = 'This private key does not belong to the certificate above.';
          else if (new Date(cert.validTo).getTime() < Date.now())
            errors.certificate_pem = `This certificate expired on ${new Date(cert.validTo).toUTCString()}.`;
          else
            Object.assign(next, {
              certificatePem: certPem,
              certificateThumbprint: cert.fingerprint.replace(/:/g, ''),
              certificateExpiresAt: new Date(cert.validTo),
              privateKeyEnc: this.seal(keyPem, tenantId, 'private_key_enc'),
            });
        }
      }
    }
    if (Object.keys(errors).length) throw AppError.invalid(errors);

    await this.repo.save(next);
    const describe = (c: StoredConnection | null) =>
      c && {
        client_id: c.clientId,
        credential_type: c.credentialType,
        secret_expires_on: c.secretExpiresOn,
        certificate_thumbprint: c.certificateThumbprint,
      };
    const changedSecret =
      (next.clientSecretEnc && next.clientSecretEnc !== before?.clientSecretEnc) ||
      (next.privateKeyEnc && next.privateKeyEnc !== before?.privateKeyEnc);
    await this.audit.record({
      actorId: actor.id,
      tenantId,
      action: before ? 'connection.updated' : 'connection.created',
      subject: { type: 'connection', id: tenantId, label: `Microsoft Graph connection of ${tenant.name}` },
      before: describe(before) ?? undefined,
      after: describe(next),
      detail: changedSecret ? `A new ${type === 'secret' ? 'client secret' : 'certificate'} was set` : null,
    });
    await this.tenants.setPolicySource(tenantId, source, actor);
  }

  /** The decrypted credential for the Graph client; null without a connection. */
  async forTenant(tenantId: number): Promise<GraphCredential | null> {
    const [c, tenant] = await Promise.all([this.repo.byTenant(tenantId), this.tenants.findById(tenantId)]);
    if (!c || !tenant?.microsoftTenantId) return null;
    const open = (envelope: string | null, column: string) => {
      if (!envelope) return null;
      try {
        return this.box.decrypt(envelope, associatedData(TABLE, tenantId, column));
      } catch (e) {
        // A copied or altered envelope, or a key no longer configured: a readable run failure.
        if (e instanceof EncryptionError)
          throw new ProviderError(
            'credentials_invalid',
            `${e.message} Save the credential again on the tenant's Microsoft connection page.`,
          );
        throw e;
      }
    };
    const base = { microsoftTenantId: tenant.microsoftTenantId, clientId: c.clientId, version: c.version };
    if (c.credentialType === 'secret') {
      const clientSecret = open(c.clientSecretEnc, 'client_secret_enc');
      return clientSecret ? { ...base, secret: { clientSecret } } : null;
    }
    const privateKeyPem = open(c.privateKeyEnc, 'private_key_enc');
    return c.certificatePem && privateKeyPem
      ? { ...base, certificate: { certificatePem: c.certificatePem, privateKeyPem } }
      : null;
  }

  /**
   * Re-encrypts every stored secret under the current key (the first of APP_ENCRYPTION_KEYS), each
   * row in its own transaction. Returns how many rows there are and how many were rewritten.
   */
  async rotate(): Promise<{
    rows: number;
    rewritten: number;
    failed: Array<{ tenantId: number; message: string }>;
  }> {
    const rows = await this.repo.all();
    let rewritten = 0;
    const failed: Array<{ tenantId: number; message: string }> = [];
    for (const r of rows) {
      const again = (envelope: string | null, column: string) =>
        envelope ? this.box.reencrypt(envelope, associatedData(TABLE, r.tenantId, column)) : null;
      let secret: string | null;
      let key: string | null;
      try {
        secret = again(r.clientSecretEnc, 'client_secret_enc');
        key = again(r.privateKeyEnc, 'private_key_enc');
      } catch (e) {
        // One unreadable row (altered, or under a key no longer listed) does not stop the others.
        if (!(e instanceof EncryptionError)) throw e;
        failed.push({ tenantId: r.tenantId, message: e.message });
        continue;
      }
      if (secret === r.clientSecretEnc && key === r.privateKeyEnc) continue;
      await this.db.transaction(async (tx) => {
        // Unchanged meanwhile (a save in between would carry its own, current envelopes).
        const now = await this.repo.byTenant(r.tenantId, tx);
        if (now?.version !== r.version) return;
        await this.repo.setEnvelopes(r.tenantId, secret, key, tx);
        rewritten++;
      });
    }
    return { rows: rows.length, rewritten, failed };
  }

  private seal(plaintext: string, tenantId: number, column: string): string {
    try {
      return this.box.encrypt(plaintext, associatedData(TABLE, tenantId, column));
    } catch (e) {
      if (e instanceof EncryptionError) throw AppError.badRequest(`Secrets cannot be stored: ${e.message}`);
      throw e;
    }
  }

  private parseCertificate(pem: string, errors: Record<string, string>): X509Certificate | null {
    if (!pem) {
      errors.certificate_pem = 'Paste the certificate (PEM, "-----BEGIN CERTIFICATE-----"…).';
      return null;
    }
    if (pem.length > MAX_PEM || !pem.includes('-----BEGIN CERTIFICATE-----')) {
      errors.certificate_pem = 'This is not a PEM certificate ("-----BEGIN CERTIFICATE-----"…).';
      return null;
    }
    try {
      return new X509Certificate(pem);
    } catch {
      errors.certificate_pem =
        'This certificate could not be read: check that all of the PEM block was pasted.';
      return null;
    }
  }

  private parsePrivateKey(pem: string, errors: Record<string, string>) {
    if (!pem) {
      errors.private_key_pem = 'Paste the private key (PEM, "-----BEGIN PRIVATE KEY-----"…).';
      return null;
    }
    if (pem.length > MAX_PEM || !/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(pem)) {
      errors.private_key_pem =
        'This is not an unencrypted PEM private key ("-----BEGIN PRIVATE KEY-----"…); a passphrase-protected key must be exported without one.';
      return null;
    }
    try {
      return createPrivateKey(pem);
    } catch {
      errors.private_key_pem =
        'This private key could not be read: check that all of the PEM block was pasted.';
      return null;
    }
  }
}
