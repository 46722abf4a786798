import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimTenantHandle, addFixtureTenant, graphTestConfig } from '../../test/graph-sim/app-harness';
import { GRAPH_SIM_DIR } from '../../test/graph-sim/fixture';
import { GraphSimulator } from '../../test/graph-sim/simulator';
import { ProviderError } from '../policies/policy-source';
import { GraphTokenProvider, sanitizeMsalLog } from './graph-token.provider';
import { GraphTransport } from './graph-transport';

const cert = (name: string) => readFileSync(join(GRAPH_SIM_DIR, 'certs', name), 'utf8');

describe('GraphTokenProvider', () => {
  let sim: GraphSimulator;
  let transport: GraphTransport;
  let tokens: GraphTokenProvider;
  let tenant: SimTenantHandle;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    sim = await GraphSimulator.start();
    const config = graphTestConfig(sim);
    transport = new GraphTransport(config);
    tokens = new GraphTokenProvider(config, transport);
  });

  beforeEach(() => {
    tenant = addFixtureTenant(sim);
  });

  afterAll(async () => {
    transport.onModuleDestroy();
    await sim.stop();
  });

  it('asks Entra once for many concurrent callers, then serves from the cache', async () => {
    const got = await Promise.all(Array.from({ length: 20 }, () => tokens.accessToken(1, tenant.credential)));
    expect(new Set(got).size).toBe(1);
    await tokens.accessToken(1, tenant.credential);
    expect(sim.tokenRequestCount({ tenant: tenant.tenantId })).toBe(1);
    // MSAL read the tenant's OpenID document once, then posted to its token endpoint: no instance discovery.
    expect(sim.requests({ service: 'entra', tenant: tenant.tenantId }).map((r) => r.method)).toEqual([
      'GET',
      'POST',
    ]);
  });

  it('builds a new client, and fetches a new token, when the credential version changes', async () => {
    const before = await tokens.accessToken(2, tenant.credential);
    const secret = 'second8Q~RotatedSecretValue.0000000000000';
    sim.addSecret(tenant.tenantId, tenant.clientId, secret);
    const after = await tokens.accessToken(2, {
      ...tenant.credential,
      version: '2',
      secret: { clientSecret: secret },
    });
    expect(after).not.toBe(before);
    expect(
      sim.tokenRequests({ tenant: tenant.tenantId }).map((r) => r.body.includes(encodeURIComponent(secret))),
    ).toEqual([false, true]);
  });

  it('replaces a token Graph refused once, however many callers saw the refusal', async () => {
    const first = await tokens.accessToken(3, tenant.credential);
    const renewed = await Promise.all(
      Array.from({ length: 5 }, () => tokens.accessToken(3, tenant.credential, first)),
    );
    expect(new Set(renewed).size).toBe(1);
    expect(renewed[0]).not.toBe(first);
    expect(sim.tokenRequestCount({ tenant: tenant.tenantId })).toBe(2);
  });

  it('refuses a private key that does not belong to the certificate, before asking Entra', async () => {
    const error = await tokens
      .accessToken(4, {
        ...tenant.credential,
        secret: undefined,
        certificate: { certificatePem: cert('other-app-cert.pem'), privateKeyPem: cert('app-key.pem') },
      })
      .catch((e: unknown) => e);
    expect(error).toEqual(
      new ProviderError('credentials_invalid', 'The private key does not belong to the certificate.'),
    );
    expect(sim.tokenRequestCount({ tenant: tenant.tenantId })).toBe(0);
  });

  it('names AADSTS700027 for a certificate the app registration does not have', async () => {
    const error = await tokens
      .accessToken(5, {
        ...tenant.credential,
        secret: undefined,
        certificate: { certificatePem: cert('other-app-cert.pem'), privateKeyPem: cert('other-app-key.pem') },
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      reasonCode: 'credentials_invalid',
      message: expect.stringMatching(/^AADSTS700027: /),
    });
  });

  it('reports Entra being down as provider_unavailable, not as bad credentials', async () => {
    sim.addFault({
      method: 'POST',
      path: `/${tenant.tenantId}/oauth2/v2.0/token`,
      action: { kind: 'status', status: 503 },
    });
    const error = await tokens.accessToken(6, tenant.credential).catch((e: unknown) => e);
    expect(error).toMatchObject({ reasonCode: 'provider_unavailable' });
  });
});

describe('sanitizeMsalLog', () => {
  it('cuts Entra descriptions, masks known secrets and drops URL queries', () => {
    const line =
      'Error(s): 7000215 - Timestamp: x - Description: AADSTS7000215: Invalid client secret. Submitted: s3cr3t - ' +
      'Correlation ID: c - Trace ID: t; posted to https://login.example/tenant/oauth2/v2.0/token?client_secret=s3cr3t&x=1 ' +
      'with s3cr3t';
    const out = sanitizeMsalLog(line, ['s3cr3t']);
    expect(out).not.toContain('s3cr3t');
    expect(out).toContain('Description: [omitted] - Correlation ID');
    expect(out).toContain('https://login.example/tenant/oauth2/v2.0/token?[query]');
  });
});
