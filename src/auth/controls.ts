import type { Action, SubjectName } from './ability.factory';
import { inTenant } from './ability.factory';
import type { AuthedRequest } from './request';

export interface Control {
  allowed: boolean;
  /** Why the control is disabled, shown next to it. */
  reason?: string;
}

/**
 * Whether the page should offer an action to this user; when not, the reason to show beside the
 * disabled control. The server still refuses the POST on its own.
 */
export function controlFor(req: AuthedRequest, action: Action, subject: SubjectName, what: string): Control {
  const tenant = req.tenant!;
  if (tenant.archived)
    return { allowed: false, reason: `${tenant.name} is archived: its ${what} can be viewed, not changed.` };
  if (req.ability.can(action, inTenant(subject, tenant.id))) return { allowed: true };
  return {
    allowed: false,
    reason: tenant.role
      ? `Your role in ${tenant.name} (${tenant.role}) can view ${what} but not change or start anything.`
      : `You administer ${tenant.name} as a platform admin, without a role in it.`,
  };
}
