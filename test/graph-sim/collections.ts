import type { CollectionName } from './fixture';

export type GraphVersion = 'beta' | 'v1.0';

/**
 * Navigation properties of an entity, kept inline in the fixtures. Graph leaves them out of a document
 * unless `$expand`ed and serves each as its own sub-collection (`/{id}/assignments`).
 */
export interface NavSpec {
  [name: string]: {
    /** A single entity (`definition`), not a collection. */
    single?: boolean;
    nav?: NavSpec;
    /** Child navigation properties `$expand` accepts when this one is listed; default all. */
    expand?: string[];
    pageSize?: number;
  };
}

/** One Graph entity set the simulator serves. */
export interface CollectionSpec {
  /** Where its documents are stored. */
  store: CollectionName;
  /** Path after the version segment. */
  path: string;
  versions: GraphVersion[];
  entityType: string;
  /** Any one of these application permissions grants read. */
  permissions: string[];
  /** Who answers a 403: Intune wraps a JSON message, Entra (conditional access) does not. */
  service: 'intune' | 'entra';
  pageSize: number;
  nav: NavSpec;
  /** Navigation properties `$expand` accepts on the list (single items accept all). */
  listExpand: string[];
  /** Properties the list returns as null (script content). */
  listNull?: string[];
  /** When set, the list returns only these properties (mixed-type app protection list). */
  listSelect?: string[];
  /** A typed view over `store`: only documents of this `@odata.type`. */
  odataType?: string;
}

const CONFIG = ['DeviceManagementConfiguration.Read.All', 'DeviceManagementConfiguration.ReadWrite.All'];
const SERVICE_CONFIG = [
  'DeviceManagementServiceConfig.Read.All',
  'DeviceManagementServiceConfig.ReadWrite.All',
];
// Older documentation names the managed-devices permissions for scripts; Graph accepts either.
const SCRIPTS = [
  'DeviceManagementScripts.Read.All',
  'DeviceManagementScripts.ReadWrite.All',
  'DeviceManagementManagedDevices.Read.All',
  'DeviceManagementManagedDevices.ReadWrite.All',
];
const APPS = ['DeviceManagementApps.Read.All', 'DeviceManagementApps.ReadWrite.All'];
const POLICY = ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'];

export const DEFAULT_PAGE_SIZE = 100;
/** Settings catalog policies and their settings come 25 to a page. */
export const CATALOG_PAGE_SIZE = 25;

const ASSIGNMENTS: NavSpec = { assignments: {} };
const BOTH: GraphVersion[] = ['beta', 'v1.0'];
const BETA: GraphVersion[] = ['beta'];

function intune(
  store: CollectionName,
  path: string,
  entity: string,
  permissions: string[],
  rest: Partial<CollectionSpec> = {},
): CollectionSpec {
  return {
    store,
    path,
    versions: BETA,
    entityType: `microsoft.graph.${entity}`,
    permissions,
    service: 'intune',
    pageSize: DEFAULT_PAGE_SIZE,
    nav: ASSIGNMENTS,
    listExpand: [],
    ...rest,
  };
}

const APP_PROTECTION_BASE = [
  '@odata.type',
  'id',
  'displayName',
  'description',
  'createdDateTime',
  'lastModifiedDateTime',
  'roleScopeTagIds',
  'version',
];

/**
 * Typed app protection collections: where the full document is read. Windows Information Protection
 * has no `apps` (its apps are part of the policy itself).
 */
export const APP_PROTECTION_COLLECTIONS: Record<
  string,
  { segment: string; versions: GraphVersion[]; nav: string[] }
> = {
  '#microsoft.graph.iosManagedAppProtection': {
    segment: 'iosManagedAppProtections',
    versions: BOTH,
    nav: ['apps', 'assignments'],
  },
  '#microsoft.graph.androidManagedAppProtection': {
    segment: 'androidManagedAppProtections',
    versions: BOTH,
    nav: ['apps', 'assignments'],
  },
  '#microsoft.graph.windowsManagedAppProtection': {
    segment: 'windowsManagedAppProtections',
    versions: BETA,
    nav: ['apps', 'assignments'],
  },
  '#microsoft.graph.targetedManagedAppConfiguration': {
    segment: 'targetedManagedAppConfigurations',
    versions: BOTH,
    nav: ['apps', 'assignments'],
  },
  '#microsoft.graph.mdmWindowsInformationProtectionPolicy': {
    segment: 'mdmWindowsInformationProtectionPolicies',
    versions: BOTH,
    nav: ['assignments'],
  },
  '#microsoft.graph.windowsInformationProtectionPolicy': {
    segment: 'windowsInformationProtectionPolicies',
    versions: BOTH,
    nav: ['assignments'],
  },
};

export const COLLECTIONS: CollectionSpec[] = [
  intune('deviceConfigurations', 'deviceManagement/deviceConfigurations', 'deviceConfiguration', CONFIG, {
    versions: BOTH,
    listExpand: ['assignments'],
  }),
  intune(
    'deviceCompliancePolicies',
    'deviceManagement/deviceCompliancePolicies',
    'deviceCompliancePolicy',
    CONFIG,
    {
      versions: BOTH,
      nav: { assignments: {}, scheduledActionsForRule: { nav: { scheduledActionConfigurations: {} } } },
      listExpand: ['assignments', 'scheduledActionsForRule'],
    },
  ),
  intune(
    'configurationPolicies',
    'deviceManagement/configurationPolicies',
    'deviceManagementConfigurationPolicy',
    CONFIG,
    {
      pageSize: CATALOG_PAGE_SIZE,
      nav: {
        assignments: {},
        settings: { pageSize: CATALOG_PAGE_SIZE, nav: { settingDefinitions: {} } },
      },
      listExpand: ['assignments'],
    },
  ),
  intune(
    'groupPolicyConfigurations',
    'deviceManagement/groupPolicyConfigurations',
    'groupPolicyConfiguration',
    CONFIG,
    {
      nav: {
        assignments: {},
        definitionValues: {
          expand: ['definition'],
          nav: {
            definition: { single: true },
            presentationValues: { nav: { presentation: { single: true } } },
          },
        },
      },
    },
  ),
  intune(
    'deviceEnrollmentConfigurations',
    'deviceManagement/deviceEnrollmentConfigurations',
    'deviceEnrollmentConfiguration',
    SERVICE_CONFIG,
    { versions: BOTH },
  ),
  intune(
    'windowsAutopilotDeploymentProfiles',
    'deviceManagement/windowsAutopilotDeploymentProfiles',
    'windowsAutopilotDeploymentProfile',
    SERVICE_CONFIG,
  ),
  intune(
    'deviceManagementScripts',
    'deviceManagement/deviceManagementScripts',
    'deviceManagementScript',
    SCRIPTS,
    { listNull: ['scriptContent'] },
  ),
  intune('intents', 'deviceManagement/intents', 'deviceManagementIntent', CONFIG, {
    nav: { assignments: {}, settings: {} },
  }),
  intune('managedAppPolicies', 'deviceAppManagement/managedAppPolicies', 'managedAppPolicy', APPS, {
    versions: BOTH,
    nav: { apps: {}, assignments: {} },
    listSelect: APP_PROTECTION_BASE,
  }),
  ...Object.entries(APP_PROTECTION_COLLECTIONS).map(([odataType, { segment, versions, nav }]) =>
    intune('managedAppPolicies', `deviceAppManagement/${segment}`, odataType.slice(1), APPS, {
      versions,
      odataType,
      nav: Object.fromEntries(nav.map((n) => [n, {}])),
      listExpand: nav,
    }),
  ),
  {
    store: 'conditionalAccessPolicies',
    path: 'identity/conditionalAccess/policies',
    versions: BOTH,
    entityType: 'microsoft.graph.conditionalAccessPolicy',
    permissions: POLICY,
    service: 'entra',
    pageSize: DEFAULT_PAGE_SIZE,
    nav: {},
    listExpand: [],
  },
];

/** Settings catalog definitions by id (the labels of settings), served from the tenant's policies. */
export const SETTING_DEFINITIONS_PATH = 'deviceManagement/configurationSettings';
export const SETTING_DEFINITIONS_PERMISSIONS = CONFIG;
