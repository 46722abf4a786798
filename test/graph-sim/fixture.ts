import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A Graph document as stored: navigation properties (assignments, settings, …) inline. */
export type GraphDoc = Record<string, unknown> & { id: string };

/** The simulator's collections; each maps to one Graph entity set (see collections.ts). */
export const COLLECTION_NAMES = [
  'deviceConfigurations',
  'deviceCompliancePolicies',
  'configurationPolicies',
  'groupPolicyConfigurations',
  'deviceEnrollmentConfigurations',
  'windowsAutopilotDeploymentProfiles',
  'deviceManagementScripts',
  'intents',
  'managedAppPolicies',
  'conditionalAccessPolicies',
] as const;
export type CollectionName = (typeof COLLECTION_NAMES)[number];

export interface FixtureApp {
  clientId: string;
  displayName?: string;
  /** Client secrets; `expiresAt` (ISO) in the past makes Entra answer AADSTS7000222. */
  secrets?: Array<{ value: string; expiresAt?: string }>;
  /** PEM certificates registered on the app (the certificate credential). */
  certificates?: string[];
  /** Application permissions granted (with admin consent) in this tenant. */
  permissions?: string[];
}

/** One tenant as JSON: identity, app registrations and the policies Graph serves. */
export interface TenantFixture {
  tenantId: string;
  /** Verified domains, usable instead of the GUID in the authority. */
  domains?: string[];
  displayName?: string;
  apps?: FixtureApp[];
  /**
   * The settings catalog definitions its settings use: Graph joins them into a setting on
   * `$expand=settingDefinitions` and serves them at `/deviceManagement/configurationSettings/{id}`.
   */
  settingDefinitions?: Array<Record<string, unknown>>;
  collections: Partial<Record<CollectionName, GraphDoc[]>>;
}

export const GRAPH_SIM_DIR = __dirname;
export const DEFAULT_FIXTURE_FILE = join(__dirname, 'fixtures', 'default-tenant.json');

/** Every application permission an Intune reader needs; what the default fixture's app is granted. */
export const READ_PERMISSIONS = [
  'DeviceManagementConfiguration.Read.All',
  'DeviceManagementServiceConfig.Read.All',
  'DeviceManagementScripts.Read.All',
  'DeviceManagementApps.Read.All',
  'Policy.Read.All',
];

export function loadFixture(file: string = DEFAULT_FIXTURE_FILE): TenantFixture {
  return JSON.parse(readFileSync(file, 'utf8')) as TenantFixture;
}

/** Policies a full read should capture: one per document of every collection. */
export function fixturePolicyCount(fixture: TenantFixture): number {
  return COLLECTION_NAMES.reduce((n, c) => n + (fixture.collections[c]?.length ?? 0), 0);
}
