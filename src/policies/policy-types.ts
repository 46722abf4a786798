import { AppError } from '../common/app-error';
import { textParam } from '../common/query-params';

/** The policy types a tenant's inventory holds, with the label pages show for each. */
export const POLICY_TYPE_LABELS: Record<string, string> = {
  deviceConfiguration: 'Device configuration',
  compliancePolicy: 'Compliance',
  settingsCatalog: 'Settings catalog',
  groupPolicyConfiguration: 'Administrative templates',
  enrollmentConfiguration: 'Enrollment configuration',
  autopilotProfile: 'Autopilot profile',
  deviceManagementScript: 'PowerShell script',
  endpointSecurity: 'Endpoint security',
  endpointSecurityIntent: 'Endpoint security (legacy)',
  appProtection: 'App protection',
  conditionalAccess: 'Conditional access',
};

export function policyTypeLabel(type: string): string {
  return POLICY_TYPE_LABELS[type] ?? type;
}

/** A policy-type filter from the query: a known type, absent, or a readable 400. */
export function policyTypeParam(v: unknown, max: number): string | undefined {
  const type = textParam(v, 'type', max);
  if (type && !(type in POLICY_TYPE_LABELS)) throw AppError.badRequest(`Unknown policy type "${type}".`);
  return type;
}

/** The policy types as the options of a filter, `selected` marked. */
export function policyTypeOptions(selected: string | undefined) {
  return Object.entries(POLICY_TYPE_LABELS).map(([value, label]) => ({
    value,
    label,
    selected: value === selected,
  }));
}
