/** The policy types the Graph source reads, in the order a sync reads and reports them. */
export const GRAPH_POLICY_TYPE_KEYS = [
  'deviceConfiguration',
  'compliancePolicy',
  'settingsCatalog',
  'groupPolicyConfiguration',
  'enrollmentConfiguration',
  'autopilotProfile',
  'deviceManagementScript',
  'endpointSecurityIntent',
  'appProtection',
  'conditionalAccess',
] as const;

export type GraphPolicyType = (typeof GRAPH_POLICY_TYPE_KEYS)[number];

export interface GraphPolicyTypeInfo {
  key: GraphPolicyType;
  label: string;
  /** The list endpoint (path on GRAPH_BASE_URL, version included: changing it changes payloads). */
  endpoint: string;
  /** The application permission to grant (with admin consent) to read it. */
  permission: string;
}

const CONFIGURATION = 'DeviceManagementConfiguration.Read.All';
const SERVICE_CONFIG = 'DeviceManagementServiceConfig.Read.All';

export const GRAPH_POLICY_TYPES: readonly GraphPolicyTypeInfo[] = [
  {
    key: 'deviceConfiguration',
    label: 'Device configuration',
    endpoint: '/beta/deviceManagement/deviceConfigurations',
    permission: CONFIGURATION,
  },
  {
    key: 'compliancePolicy',
    label: 'Compliance',
    endpoint: '/beta/deviceManagement/deviceCompliancePolicies',
    permission: CONFIGURATION,
  },
  {
    key: 'settingsCatalog',
    label: 'Settings catalog',
    endpoint: '/beta/deviceManagement/configurationPolicies',
    permission: CONFIGURATION,
  },
  {
    key: 'groupPolicyConfiguration',
    label: 'Administrative templates',
    endpoint: '/beta/deviceManagement/groupPolicyConfigurations',
    permission: CONFIGURATION,
  },
  {
    key: 'enrollmentConfiguration',
    label: 'Enrollment configuration',
    endpoint: '/beta/deviceManagement/deviceEnrollmentConfigurations',
    permission: SERVICE_CONFIG,
  },
  {
    key: 'autopilotProfile',
    label: 'Autopilot profile',
    endpoint: '/beta/deviceManagement/windowsAutopilotDeploymentProfiles',
    permission: SERVICE_CONFIG,
  },
  {
    key: 'deviceManagementScript',
    label: 'PowerShell script',
    endpoint: '/beta/deviceManagement/deviceManagementScripts',
    permission: 'DeviceManagementScripts.Read.All',
  },
  {
    key: 'endpointSecurityIntent',
    label: 'Endpoint security (legacy)',
    endpoint: '/beta/deviceManagement/intents',
    permission: CONFIGURATION,
  },
  {
    key: 'appProtection',
    label: 'App protection',
    endpoint: '/beta/deviceAppManagement/managedAppPolicies',
    permission: 'DeviceManagementApps.Read.All',
  },
  {
    key: 'conditionalAccess',
    label: 'Conditional access',
    endpoint: '/v1.0/identity/conditionalAccess/policies',
    permission: 'Policy.Read.All',
  },
];

export function graphPolicyType(key: string): GraphPolicyTypeInfo | undefined {
  return GRAPH_POLICY_TYPES.find((t) => t.key === key);
}
