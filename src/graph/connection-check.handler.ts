import { Injectable } from '@nestjs/common';
import { ProducerRunContext, RunHandler, RunProducer } from '../runs';
import { TenantsService } from '../tenants';
import { GraphPolicySource } from './graph-policy-source';
import { graphPolicyType } from './graph-policy-types';

export const CONNECTION_CHECK = 'tenant.connection_check';

/**
 * tenant.connection_check ("Test connection"): one item per policy type, each a cheap read. A type
 * fails with permission_denied (naming the application permission to grant) or, when no token can be
 * had at all, every type fails with credentials_invalid and Entra's AADSTS code — never the secret.
 */
@RunProducer({
  type: CONNECTION_CHECK,
  label: 'Connection check',
  related: (run) => [
    {
      label: 'Microsoft connection',
      href: `/admin/t/${run.tenantSlug}/connection`,
      description: 'The result per policy type, and the credential',
    },
  ],
})
@Injectable()
export class ConnectionCheckHandler implements RunHandler {
  constructor(
    private readonly graph: GraphPolicySource,
    private readonly tenants: TenantsService,
  ) {}

  async handle(ctx: ProducerRunContext): Promise<void> {
    const tenant = await this.tenants.requireById(ctx.tenantId);
    const checks = await this.graph.checkConnection({ id: tenant.id, slug: tenant.slug });
    await ctx.setTotal(checks.length);
    await ctx.record(
      checks.map((c) =>
        c.ok
          ? { itemId: `type:${c.policyType}`, result: 'succeeded' as const }
          : {
              itemId: `type:${c.policyType}`,
              result: 'failed' as const,
              reasonCode: c.reasonCode,
              message: withType(c.policyType, c.message),
            },
      ),
    );
  }
}

/** The message names the policy type it is about (a permission message does already). */
function withType(key: string, message: string): string {
  const label = graphPolicyType(key)?.label ?? key;
  return message.includes(label) ? message : `${label}: ${message}`;
}
