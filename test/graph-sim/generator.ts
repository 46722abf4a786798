import {
  COLLECTION_NAMES,
  CollectionName,
  FixtureApp,
  GraphDoc,
  READ_PERMISSIONS,
  TenantFixture,
} from './fixture';

/**
 * Deterministic tenants in Graph's shapes, for the default fixture and for benchmarks (thousands of
 * policies). Same options, same JSON.
 */
export interface GenerateOptions {
  seed?: number;
  tenantId?: string;
  domain?: string;
  displayName?: string;
  counts: Partial<Record<CollectionName, number>>;
  /** Settings of the first settings catalog policy, to make its settings span pages. */
  largeSettingsPolicy?: number;
  apps?: FixtureApp[];
}

export const DEFAULT_TENANT_ID = '6f1c2b4e-8d3a-4c5e-9b7f-2a1d0e3c4b5a';
export const DEFAULT_CLIENT_ID = '3b8e9f10-2c4d-4e6a-8b1c-9d0e1f2a3b4c';
/** Test-only secret of the default fixture's app. */
export const DEFAULT_CLIENT_SECRET = 'sim8Q~DefaultFixtureSecret.NotARealOne-0001';

/** What `fixtures/default-tenant.json` is generated from. */
export const DEFAULT_FIXTURE_OPTIONS: GenerateOptions = {
  seed: 20261202,
  tenantId: DEFAULT_TENANT_ID,
  domain: 'contoso-sim.onmicrosoft.com',
  displayName: 'Contoso (simulated)',
  counts: {
    deviceConfigurations: 6,
    deviceCompliancePolicies: 4,
    // 25 + 25 + 7: three pages.
    configurationPolicies: 57,
    groupPolicyConfigurations: 3,
    deviceEnrollmentConfigurations: 4,
    windowsAutopilotDeploymentProfiles: 2,
    deviceManagementScripts: 3,
    intents: 2,
    managedAppPolicies: 5,
    conditionalAccessPolicies: 4,
  },
  // 25 + 25 + 10: three pages of settings.
  largeSettingsPolicy: 60,
  apps: [
    {
      clientId: DEFAULT_CLIENT_ID,
      displayName: 'Tenant Operations Hub',
      secrets: [{ value: DEFAULT_CLIENT_SECRET, expiresAt: '2045-12-31T00:00:00Z' }],
      permissions: READ_PERMISSIONS,
    },
  ],
};

/** Relative frequencies of the policy types in a large tenant (settings catalog dominates today). */
const WEIGHTS: Record<CollectionName, number> = {
  deviceConfigurations: 20,
  deviceCompliancePolicies: 6,
  configurationPolicies: 34,
  groupPolicyConfigurations: 8,
  deviceEnrollmentConfigurations: 3,
  windowsAutopilotDeploymentProfiles: 2,
  deviceManagementScripts: 8,
  intents: 3,
  managedAppPolicies: 10,
  conditionalAccessPolicies: 6,
};

/** `total` policies spread over the collections by their usual frequency. */
export function spreadCounts(total: number): Record<CollectionName, number> {
  const sum = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
  const counts = Object.fromEntries(
    COLLECTION_NAMES.map((c) => [c, Math.floor((total * WEIGHTS[c]) / sum)]),
  ) as Record<CollectionName, number>;
  counts.configurationPolicies += total - Object.values(counts).reduce((a, b) => a + b, 0);
  return counts;
}

class Random {
  constructor(private state: number) {}

  next(): number {
    // mulberry32
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  guid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[Math.floor(this.next() * 4)]}${hex.slice(17, 20)}-${hex.slice(20)}`;
  }

  /** A timestamp in 2024–2025, as Graph writes them. */
  date(): string {
    const start = Date.UTC(2024, 0, 1);
    const ms = start + Math.floor(this.next() * 730 * 86_400_000);
    return new Date(ms).toISOString().replace(/\.\d+Z$/, `.${this.int(1000000, 9999999)}Z`);
  }
}

const TEAMS = [
  'Finance',
  'HR',
  'Sales',
  'Engineering',
  'Kiosk',
  'Executives',
  'Field',
  'Contractors',
  'Pilot',
];
const RINGS = ['Ring 0', 'Ring 1', 'Broad', 'Preview'];

interface Context {
  r: Random;
  groups: string[];
  filters: string[];
  definitions: Array<Record<string, unknown>>;
}

function name(c: Context, kind: string, i: number): string {
  return `${kind} - ${c.r.pick(TEAMS)} - ${c.r.pick(RINGS)} ${String(i + 1).padStart(3, '0')}`;
}

function assignments(c: Context, policyId: string, withIntent = false): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const n = c.r.int(0, 3);
  for (let k = 0; k < n; k++) {
    const exclude = k > 0 && c.r.bool(0.25);
    const groupId = c.r.pick(c.groups);
    const filtered = !exclude && c.r.bool(0.3);
    const target: Record<string, unknown> = {
      '@odata.type': exclude
        ? '#microsoft.graph.exclusionGroupAssignmentTarget'
        : '#microsoft.graph.groupAssignmentTarget',
      deviceAndAppManagementAssignmentFilterId: filtered ? c.r.pick(c.filters) : null,
      deviceAndAppManagementAssignmentFilterType: filtered ? c.r.pick(['include', 'exclude']) : 'none',
      groupId,
    };
    out.push({
      id: `${policyId}_${groupId}`,
      source: 'direct',
      sourceId: policyId,
      ...(withIntent ? { intent: 'apply' } : {}),
      target,
    });
  }
  if (c.r.bool(0.15)) {
    out.push({
      id: `${policyId}_adadadad-808e-44e2-905a-0b7873a8a531`,
      source: 'direct',
      sourceId: policyId,
      ...(withIntent ? { intent: 'apply' } : {}),
      target: {
        '@odata.type': '#microsoft.graph.allDevicesAssignmentTarget',
        deviceAndAppManagementAssignmentFilterId: null,
        deviceAndAppManagementAssignmentFilterType: 'none',
      },
    });
  }
  return out;
}

function base(c: Context, id: string, displayName: string): GraphDoc {
  return {
    id,
    createdDateTime: c.r.date(),
    lastModifiedDateTime: c.r.date(),
    displayName,
    description: c.r.bool(0.6) ? `Managed by the platform team (${displayName.split(' - ')[1]}).` : '',
    roleScopeTagIds: ['0'],
  };
}

function deviceConfiguration(c: Context, i: number): GraphDoc {
  const id = c.r.guid();
  const variants: Array<[string, string, () => Record<string, unknown>]> = [
    [
      'windows10GeneralConfiguration',
      'Windows - Device restrictions',
      () => ({
        passwordRequired: true,
        passwordMinimumLength: c.r.pick([8, 12, 14]),
        passwordMinutesOfInactivityBeforeScreenTimeout: c.r.pick([5, 15]),
        defenderRequireRealTimeMonitoring: true,
        defenderScanType: c.r.pick(['quick', 'full']),
        cameraBlocked: c.r.bool(0.2),
        bluetoothBlocked: false,
        cortanaBlocked: c.r.bool(),
        edgeBlockPasswordManager: c.r.bool(),
        smartScreenEnableAppInstallControl: true,
      }),
    ],
    [
      'windows10CustomConfiguration',
      'Windows - Custom OMA-URI',
      () => ({
        omaSettings: [
          {
            '@odata.type': '#microsoft.graph.omaSettingInteger',
            displayName: 'Disable consumer features',
            description: null,
            omaUri: './Device/Vendor/MSFT/Policy/Config/Experience/AllowWindowsConsumerFeatures',
            secretReferenceValueId: null,
            isEncrypted: false,
            value: 0,
            isReadOnly: false,
          },
          {
            // Graph masks string values; reading them needs ReadWrite and would put secrets into snapshots.
            '@odata.type': '#microsoft.graph.omaSettingString',
            displayName: 'Wi-Fi pre-shared key',
            description: null,
            omaUri: './Vendor/MSFT/WiFi/Profile/Corp/WlanXml',
            secretReferenceValueId: c.r.guid(),
            isEncrypted: true,
            value: '****',
          },
        ],
      }),
    ],
    [
      'iosGeneralDeviceConfiguration',
      'iOS - Device restrictions',
      () => ({
        passcodeRequired: true,
        passcodeMinimumLength: c.r.pick([6, 8]),
        passcodeBlockSimple: true,
        appStoreBlocked: false,
        cameraBlocked: c.r.bool(0.1),
        iCloudBlockBackup: c.r.bool(),
        airDropBlocked: c.r.bool(),
      }),
    ],
    [
      'androidWorkProfileGeneralDeviceConfiguration',
      'Android - Work profile restrictions',
      () => ({
        workProfileBlockCamera: c.r.bool(0.2),
        workProfileBlockScreenCapture: true,
        workProfileDataSharingType: 'preventAny',
        passwordMinimumLength: 6,
        passwordRequiredType: 'numericComplex',
      }),
    ],
    [
      'macOSGeneralDeviceConfiguration',
      'macOS - Device restrictions',
      () => ({
        passwordRequired: true,
        passwordMinimumLength: 12,
        passwordMinutesOfInactivityBeforeLock: 5,
        airDropBlocked: c.r.bool(),
        iCloudBlockDocumentSync: c.r.bool(),
      }),
    ],
    [
      'windows10EndpointProtectionConfiguration',
      'Windows - Endpoint protection',
      () => ({
        firewallBlockStatefulFTP: true,
        firewallProfileDomain: { firewallEnabled: 'allowed', inboundConnectionsBlocked: true },
        bitLockerEncryptDevice: true,
        bitLockerSystemDrivePolicy: { encryptionMethod: 'xtsAes256', startupAuthenticationRequired: true },
        applicationGuardEnabled: c.r.bool(),
      }),
    ],
  ];
  const [type, kind, extra] = variants[i % variants.length];
  return {
    '@odata.type': `#microsoft.graph.${type}`,
    ...base(c, id, name(c, kind, i)),
    supportsScopeTags: true,
    deviceManagementApplicabilityRuleOsEdition: null,
    deviceManagementApplicabilityRuleOsVersion: null,
    deviceManagementApplicabilityRuleDeviceMode: null,
    version: c.r.int(1, 12),
    ...extra(),
    assignments: assignments(c, id, true),
  } as GraphDoc;
}

function compliancePolicy(c: Context, i: number): GraphDoc {
  const id = c.r.guid();
  const variants: Array<[string, string, Record<string, unknown>]> = [
    [
      'windows10CompliancePolicy',
      'Windows - Compliance',
      {
        passwordRequired: true,
        osMinimumVersion: '10.0.19045',
        bitLockerEnabled: true,
        secureBootEnabled: true,
      },
    ],
    [
      'iosCompliancePolicy',
      'iOS - Compliance',
      { passcodeRequired: true, osMinimumVersion: '17.0', securityBlockJailbrokenDevices: true },
    ],
    [
      'androidWorkProfileCompliancePolicy',
      'Android - Compliance',
      {
        passwordRequired: true,
        securityBlockJailbrokenDevices: true,
        securityRequireSafetyNetAttestationBasicIntegrity: true,
      },
    ],
    [
      'macOSCompliancePolicy',
      'macOS - Compliance',
      { passwordRequired: true, storageRequireEncryption: true, firewallEnabled: true },
    ],
  ];
  const [type, kind, settings] = variants[i % variants.length];
  const actions: Array<Record<string, unknown>> = [
    {
      id: c.r.guid(),
      gracePeriodHours: 0,
      actionType: 'block',
      notificationTemplateId: '00000000-0000-0000-0000-000000000000',
      notificationMessageCCList: [],
    },
  ];
  if (c.r.bool()) {
    actions.push({
      id: c.r.guid(),
      gracePeriodHours: 24,
      actionType: 'notification',
      notificationTemplateId: c.r.guid(),
      notificationMessageCCList: [],
    });
  }
  return {
    '@odata.type': `#microsoft.graph.${type}`,
    ...base(c, id, name(c, kind, i)),
    version: c.r.int(1, 6),
    ...settings,
    scheduledActionsForRule: [{ id: c.r.guid(), ruleName: null, scheduledActionConfigurations: actions }],
    assignments: assignments(c, id),
  } as GraphDoc;
}

const AREAS = [
  'Defender',
  'BitLocker',
  'Browser',
  'DeviceLock',
  'Update',
  'Privacy',
  'Experience',
  'Firewall',
  'SmartScreen',
  'Search',
];
const VERBS = ['Allow', 'Enable', 'Configure', 'Prevent', 'Require', 'Block'];
const NOUNS = [
  'CloudProtection',
  'Telemetry',
  'Camera',
  'Autoplay',
  'RemoteAssistance',
  'Notifications',
  'LocationServices',
  'ScriptScanning',
  'UserFeedback',
  'DeviceEncryption',
];

/** Distinct settings catalog definitions a tenant draws from; the largest policy needs 60. */
const DEFINITION_POOL = AREAS.length * 9;

/** A settings catalog definition, as the catalog (`configurationSettings`) serves it. */
function catalogDefinition(index: number): Record<string, unknown> {
  const area = AREAS[index % AREAS.length];
  const verb = VERBS[Math.floor(index / AREAS.length) % VERBS.length];
  const noun = NOUNS[Math.floor(index / (AREAS.length * VERBS.length)) % NOUNS.length];
  const settingName = `${verb}${noun}`;
  const id = `device_vendor_msft_policy_config_${area.toLowerCase()}_${settingName.toLowerCase()}`;
  const displayName = `${verb} ${noun.replace(/([a-z])([A-Z])/g, '$1 $2')}`;
  const choice = index % 3 !== 2;
  const definition: Record<string, unknown> = {
    '@odata.type': choice
      ? '#microsoft.graph.deviceManagementConfigurationChoiceSettingDefinition'
      : '#microsoft.graph.deviceManagementConfigurationSimpleSettingDefinition',
    applicability: {
      '@odata.type': '#microsoft.graph.deviceManagementConfigurationWindowsSettingApplicability',
      platform: 'windows10',
      technologies: 'mdm',
    },
    baseUri: './Device/Vendor/MSFT/Policy',
    offsetUri: `/Config/${area}/${settingName}`,
    rootDefinitionId: id,
    settingUsage: 'configuration',
    uxBehavior: choice ? 'dropdown' : 'default',
    id,
    description: `${displayName} (${area}).`,
    name: settingName,
    displayName,
    version: '638412345678901234',
  };
  if (choice) {
    definition.defaultOptionId = `${id}_1`;
    definition.options = [0, 1].map((v) => ({
      itemId: `${id}_${v}`,
      displayName: v ? 'Allowed' : 'Not allowed',
      optionValue: {
        '@odata.type': '#microsoft.graph.deviceManagementConfigurationIntegerSettingValue',
        value: v,
      },
    }));
  } else {
    definition.valueDefinition = {
      '@odata.type': '#microsoft.graph.deviceManagementConfigurationIntegerSettingValueDefinition',
      maximumValue: 999,
      minimumValue: 0,
    };
  }
  return definition;
}

/** A setting of a settings catalog policy; Graph joins its definitions in on `$expand=settingDefinitions`. */
function catalogSetting(
  c: Context,
  definition: Record<string, unknown>,
  position: number,
): Record<string, unknown> {
  const id = definition.id as string;
  const settingInstance = definition.options
    ? {
        '@odata.type': '#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance',
        settingDefinitionId: id,
        settingInstanceTemplateReference: null,
        choiceSettingValue: {
          settingValueTemplateReference: null,
          value: `${id}_${c.r.int(0, 1)}`,
          children: [],
        },
      }
    : {
        '@odata.type': '#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance',
        settingDefinitionId: id,
        settingInstanceTemplateReference: null,
        simpleSettingValue: {
          '@odata.type': '#microsoft.graph.deviceManagementConfigurationIntegerSettingValue',
          settingValueTemplateReference: null,
          value: c.r.int(0, 999),
        },
      };
  return { id: String(position), settingInstance };
}

const FAMILIES: Array<[string, string, string | null]> = [
  ['none', '', null],
  ['none', '', null],
  ['endpointSecurityAntivirus', '804339ad-1553-4478-a742-138fb5807418_1', 'Microsoft Defender Antivirus'],
  ['endpointSecurityDiskEncryption', '46ddfc50-d10f-4867-b852-9434254b3bff_1', 'BitLocker'],
  ['baseline', '66df8dce-0166-4b82-92f7-1f74e3ca17a3_4', 'Security Baseline for Windows 10 and later'],
];

function settingsCatalogPolicy(c: Context, i: number, settingCount: number): GraphDoc {
  const id = c.r.guid();
  const [templateFamily, templateId, templateDisplayName] = FAMILIES[i % FAMILIES.length];
  const start = c.r.int(0, DEFINITION_POOL - 1);
  const settings = Array.from({ length: settingCount }, (_, k) =>
    catalogSetting(c, c.definitions[(start + k) % DEFINITION_POOL], k),
  );
  const platforms = i % 7 === 6 ? 'macOS' : 'windows10';
  return {
    createdDateTime: c.r.date(),
    creationSource: null,
    description: c.r.bool(0.5) ? 'Settings catalog profile.' : '',
    lastModifiedDateTime: c.r.date(),
    name: name(c, templateDisplayName ?? 'Settings catalog', i),
    platforms,
    priorityMetaData: null,
    roleScopeTagIds: ['0'],
    settingCount,
    technologies: templateFamily === 'none' ? 'mdm' : 'mdm,microsoftSense',
    id,
    isAssigned: c.r.bool(0.8),
    templateReference: {
      templateId,
      templateFamily,
      templateDisplayName,
      templateDisplayVersion: templateDisplayName ? 'Version 1' : null,
    },
    settings,
    assignments: assignments(c, id),
  } as GraphDoc;
}

const GP_DEFINITIONS: Array<[string, string, string]> = [
  ['Turn off Autoplay', '\\Windows Components\\AutoPlay Policies', 'machine'],
  ['Configure Automatic Updates', '\\Windows Components\\Windows Update', 'machine'],
  ['Prevent access to registry editing tools', '\\System', 'user'],
  ['Configure the Enterprise Mode Site List', '\\Microsoft Edge', 'machine'],
  ['Do not display the lock screen', '\\Control Panel\\Personalization', 'machine'],
  ['Set the default search provider', '\\Microsoft Edge\\Default search provider', 'user'],
];

function groupPolicyConfiguration(c: Context, i: number): GraphDoc {
  const id = c.r.guid();
  const definitionValues = Array.from({ length: c.r.int(2, 4) }, (_, k) => {
    const [displayName, categoryPath, classType] = GP_DEFINITIONS[(i + k) % GP_DEFINITIONS.length];
    const definitionId = `0b1c2d3e-4f50-4617-8${String((i + k) % GP_DEFINITIONS.length).padStart(3, '0')}-a1b2c3d4e5f6`;
    const presentationValues = Array.from({ length: c.r.int(0, 2) }, (_, p) => ({
      '@odata.type':
        p === 0
          ? '#microsoft.graph.groupPolicyPresentationValueText'
          : '#microsoft.graph.groupPolicyPresentationValueDecimal',
      id: c.r.guid(),
      lastModifiedDateTime: c.r.date(),
      createdDateTime: c.r.date(),
      value: p === 0 ? c.r.pick(['All drives', 'CD-ROM and removable media drives']) : c.r.int(1, 30),
      presentation: {
        '@odata.type':
          p === 0
            ? '#microsoft.graph.groupPolicyPresentationDropdownList'
            : '#microsoft.graph.groupPolicyPresentationDecimalTextBox',
        id: `${definitionId.slice(0, 30)}${String(p).padStart(6, '0')}`,
        label: p === 0 ? `${displayName}:` : 'Days',
        lastModifiedDateTime: c.r.date(),
      },
    }));
    return {
      id: c.r.guid(),
      enabled: c.r.bool(0.8),
      configurationType: 'policy',
      createdDateTime: c.r.date(),
      lastModifiedDateTime: c.r.date(),
      definition: {
        id: definitionId,
        classType,
        displayName,
        explainText: `This policy setting lets you ${displayName.toLowerCase()}.`,
        categoryPath,
        supportUrl: '',
        policyType: 'admxBacked',
        hasRelatedDefinitions: false,
        groupPolicyCategoryId: 'a1b2c3d4-0000-4000-8000-000000000001',
        minDeviceCspVersion: '10.0.10240.0',
        minUserCspVersion: '10.0.10240.0',
        version: '1.0',
        lastModifiedDateTime: c.r.date(),
      },
      presentationValues,
    };
  });
  return {
    ...base(c, id, name(c, 'Administrative templates', i)),
    policyConfigurationIngestionType: 'builtIn',
    definitionValues,
    assignments: assignments(c, id),
  } as GraphDoc;
}

function enrollmentConfiguration(c: Context, i: number): GraphDoc {
  const guid = c.r.guid();
  const variants: Array<[string, string, Record<string, unknown>]> = [
    [
      'windows10EnrollmentCompletionPageConfiguration',
      'Enrollment Status Page',
      {
        showInstallationProgress: true,
        blockDeviceSetupRetryByUser: false,
        allowDeviceResetOnInstallFailure: true,
        allowLogCollectionOnInstallFailure: true,
        customErrorMessage: 'Contact the service desk.',
        installProgressTimeoutInMinutes: c.r.pick([60, 90, 120]),
        allowDeviceUseOnInstallFailure: false,
        selectedMobileAppIds: [],
        trackInstallProgressForAutopilotOnly: true,
        disableUserStatusTrackingAfterFirstUser: true,
      },
    ],
    [
      'deviceEnrollmentPlatformRestrictionsConfiguration',
      'Platform restrictions',
      {
        iosRestriction: {
          platformBlocked: false,
          personalDeviceEnrollmentBlocked: true,
          osMinimumVersion: '16.0',
          osMaximumVersion: null,
        },
        windowsRestriction: {
          platformBlocked: false,
          personalDeviceEnrollmentBlocked: true,
          osMinimumVersion: null,
          osMaximumVersion: null,
        },
        androidRestriction: {
          platformBlocked: true,
          personalDeviceEnrollmentBlocked: true,
          osMinimumVersion: null,
          osMaximumVersion: null,
        },
        macOSRestriction: {
          platformBlocked: false,
          personalDeviceEnrollmentBlocked: false,
          osMinimumVersion: null,
          osMaximumVersion: null,
        },
      },
    ],
    ['deviceEnrollmentLimitConfiguration', 'Device limit', { limit: c.r.pick([5, 10, 15]) }],
    [
      'deviceEnrollmentWindowsHelloForBusinessConfiguration',
      'Windows Hello for Business',
      {
        pinMinimumLength: 6,
        pinMaximumLength: 127,
        pinUppercaseCharactersUsage: 'allowed',
        pinLowercaseCharactersUsage: 'allowed',
        pinSpecialCharactersUsage: 'allowed',
        state: 'enabled',
        securityDeviceRequired: true,
        unlockWithBiometricsEnabled: true,
        remotePassportEnabled: false,
        pinPreviousBlockCount: 0,
        pinExpirationInDays: 0,
        enhancedBiometricsState: 'notConfigured',
      },
    ],
  ];
  const [type, kind, settings] = variants[i % variants.length];
  const id = `${guid}_${type[0].toUpperCase()}${type.slice(1)}`;
  return {
    '@odata.type': `#microsoft.graph.${type}`,
    ...base(c, id, name(c, kind, i)),
    priority: i + 1,
    version: c.r.int(1, 5),
    deviceEnrollmentConfigurationType: type.replace(/Configuration$/, ''),
    ...settings,
    assignments: assignments(c, id),
  } as GraphDoc;
}

function autopilotProfile(c: Context, i: number): GraphDoc {
  const id = c.r.guid();
  const hybrid = i % 3 === 2;
  return {
    '@odata.type': hybrid
      ? '#microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile'
      : '#microsoft.graph.azureADWindowsAutopilotDeploymentProfile',
    ...base(c, id, name(c, 'Autopilot', i)),
    language: 'os-default',
    locale: 'os-default',
    extractHardwareHash: true,
    deviceNameTemplate: hybrid ? '' : `CON-${c.r.pick(['%SERIAL%', '%RAND:5%'])}`,
    deviceType: 'windowsPc',
    enableWhiteGlove: c.r.bool(),
    preprovisioningAllowed: false,
    hardwareHashExtractionEnabled: true,
    managementServiceAppId: null,
    outOfBoxExperienceSettings: {
      hidePrivacySettings: true,
      hideEULA: true,
      userType: c.r.pick(['standard', 'administrator']),
      deviceUsageType: 'singleUser',
      skipKeyboardSelectionPage: true,
      hideEscapeLink: true,
    },
    enrollmentStatusScreenSettings: null,
    ...(hybrid ? { hybridAzureADJoinSkipConnectivityCheck: false } : {}),
    assignments: assignments(c, id),
  } as GraphDoc;
}

function deviceManagementScript(c: Context, i: number): GraphDoc {
  const id = c.r.guid();
  const script = [
    '# Sets the corporate time zone and registry baseline',
    `Set-TimeZone -Id "${c.r.pick(['W. Europe Standard Time', 'GMT Standard Time', 'Pacific Standard Time'])}"`,
    `New-ItemProperty -Path "HKLM:\\SOFTWARE\\Contoso" -Name "Baseline" -Value ${i + 1} -Force`,
  ].join('\r\n');
  return {
    '@odata.type': '#microsoft.graph.deviceManagementScript',
    ...base(c, id, name(c, 'PowerShell script', i)),
    scriptContent: Buffer.from(script, 'utf8').toString('base64'),
    runAsAccount: c.r.pick(['system', 'user']),
    enforceSignatureCheck: false,
    fileName: `baseline-${i + 1}.ps1`,
    runAs32Bit: false,
    assignments: assignments(c, id),
  } as GraphDoc;
}

function intent(c: Context, i: number): GraphDoc {
  const id = c.r.guid();
  const settings = [
    ['Boolean', 'firewallBlockStatefulFTP', 'true', true],
    ['Boolean', 'defenderCloudBlockLevel', 'false', false],
    [
      'String',
      'defenderSubmitSamplesConsentType',
      '"sendSafeSamplesAutomatically"',
      'sendSafeSamplesAutomatically',
    ],
    ['Integer', 'defenderScanMaxCpuPercentage', '50', 50],
  ].slice(0, c.r.int(2, 4));
  return {
    ...base(c, id, name(c, 'Endpoint security (legacy)', i)),
    isAssigned: true,
    isMigratingToConfigurationPolicy: false,
    templateId: 'e044e60e-5901-41ad-ad77-56d0e5cc6d74',
    settings: settings.map(([kind, definition, valueJson, value]) => ({
      '@odata.type': `#microsoft.graph.deviceManagement${kind}SettingInstance`,
      id: c.r.guid(),
      definitionId: `deviceConfiguration--windows10EndpointProtectionConfiguration_${definition}`,
      valueJson,
      value,
    })),
    assignments: assignments(c, id),
  } as GraphDoc;
}

const APPS: Record<string, Array<[string, string]>> = {
  ios: [
    ['com.microsoft.office.outlook', 'ios'],
    ['com.microsoft.skype.teams', 'ios'],
    ['com.microsoft.msedge', 'ios'],
  ],
  android: [
    ['com.microsoft.office.outlook', 'android'],
    ['com.microsoft.teams', 'android'],
  ],
};

function appList(c: Context, platform: 'ios' | 'android'): Array<Record<string, unknown>> {
  return APPS[platform].map(([bundle]) => ({
    id: `${bundle}.${platform}`,
    version: String(-c.r.int(100000000, 999999999)),
    mobileAppIdentifier:
      platform === 'ios'
        ? { '@odata.type': '#microsoft.graph.iosMobileAppIdentifier', bundleId: bundle }
        : { '@odata.type': '#microsoft.graph.androidMobileAppIdentifier', packageId: bundle },
  }));
}

function appProtection(c: Context, i: number): GraphDoc {
  const guid = c.r.guid();
  const etag = `"${c.r.guid().replace(/-/g, '').slice(0, 24)}"`;
  const common = {
    version: etag,
    isAssigned: true,
    deployedAppCount: c.r.int(1, 5),
  };
  const protection = {
    periodOfflineBeforeAccessCheck: 'PT12H',
    periodOnlineBeforeAccessCheck: 'PT30M',
    allowedInboundDataTransferSources: 'allApps',
    allowedOutboundDataTransferDestinations: 'managedApps',
    organizationalCredentialsRequired: false,
    allowedOutboundClipboardSharingLevel: 'managedAppsWithPasteIn',
    dataBackupBlocked: true,
    deviceComplianceRequired: true,
    managedBrowserToOpenLinksRequired: false,
    saveAsBlocked: true,
    periodOfflineBeforeWipeIsEnforced: 'P90D',
    pinRequired: true,
    maximumPinRetries: 5,
    simplePinBlocked: true,
    minimumPinLength: c.r.pick([4, 6]),
    pinCharacterSet: 'numeric',
    disableAppPinIfDevicePinIsSet: false,
    targetedAppManagementLevels: 'unspecified',
    appGroupType: 'selectedPublicApps',
  };
  const kind = i % 5;
  if (kind === 0 || kind === 4) {
    const id = `T_${guid}`;
    return {
      '@odata.type': '#microsoft.graph.iosManagedAppProtection',
      ...base(c, id, name(c, 'iOS app protection', i)),
      ...common,
      ...protection,
      minimumRequiredOsVersion: '16.0',
      appDataEncryptionType: 'whenDeviceLocked',
      faceIdBlocked: false,
      apps: appList(c, 'ios'),
      assignments: assignments(c, id),
    } as GraphDoc;
  }
  if (kind === 1) {
    const id = `T_${guid}`;
    return {
      '@odata.type': '#microsoft.graph.androidManagedAppProtection',
      ...base(c, id, name(c, 'Android app protection', i)),
      ...common,
      ...protection,
      screenCaptureBlocked: true,
      encryptAppData: true,
      minimumRequiredPatchVersion: '2024-01-01',
      apps: appList(c, 'android'),
      assignments: assignments(c, id),
    } as GraphDoc;
  }
  if (kind === 2) {
    const id = `T_${guid}`;
    return {
      '@odata.type': '#microsoft.graph.windowsManagedAppProtection',
      ...base(c, id, name(c, 'Windows app protection', i)),
      ...common,
      allowedInboundDataTransferSources: 'allSources',
      allowedOutboundClipboardSharingLevel: 'noneWithPasteIn',
      printBlocked: true,
      maximumAllowedDeviceThreatLevel: 'low',
      apps: [
        {
          id: 'com.microsoft.edge.windows',
          version: '-1',
          mobileAppIdentifier: {
            '@odata.type': '#microsoft.graph.windowsAppIdentifier',
            windowsAppId: 'com.microsoft.edge',
          },
        },
      ],
      assignments: assignments(c, id),
    } as GraphDoc;
  }
  const id = `A_${guid}`;
  return {
    '@odata.type': '#microsoft.graph.targetedManagedAppConfiguration',
    ...base(c, id, name(c, 'App configuration', i)),
    ...common,
    appGroupType: 'selectedPublicApps',
    targetedAppManagementLevels: 'unspecified',
    customSettings: [
      { name: 'com.microsoft.outlook.Mail.FocusedInbox', value: String(c.r.bool()) },
      { name: 'com.microsoft.outlook.EmailProfile.AccountType', value: 'ModernAuth' },
    ],
    settings: [],
    apps: appList(c, 'ios'),
    assignments: assignments(c, id),
  } as GraphDoc;
}

function conditionalAccess(c: Context, i: number): GraphDoc {
  const id = c.r.guid();
  return {
    id,
    templateId: null,
    displayName: name(c, 'CA', i),
    createdDateTime: c.r.date(),
    modifiedDateTime: c.r.bool(0.7) ? c.r.date() : null,
    state: c.r.pick(['enabled', 'enabled', 'enabledForReportingButNotEnforced', 'disabled']),
    sessionControls: null,
    conditions: {
      userRiskLevels: [],
      signInRiskLevels: c.r.bool(0.3) ? ['high', 'medium'] : [],
      clientAppTypes: ['all'],
      platforms: null,
      locations: c.r.bool(0.4) ? { includeLocations: ['All'], excludeLocations: ['AllTrusted'] } : null,
      devices: null,
      applications: {
        includeApplications: ['All'],
        excludeApplications: [],
        includeUserActions: [],
        includeAuthenticationContextClassReferences: [],
        applicationFilter: null,
      },
      users: {
        includeUsers: c.r.bool(0.5) ? ['All'] : [],
        excludeUsers: [],
        includeGroups: [c.r.pick(c.groups)],
        excludeGroups: [c.r.pick(c.groups)],
        includeRoles: [],
        excludeRoles: ['62e90394-69f5-4237-9190-012177145e10'],
        includeGuestsOrExternalUsers: null,
        excludeGuestsOrExternalUsers: null,
      },
    },
    grantControls: {
      operator: 'OR',
      builtInControls: c.r.bool(0.7) ? ['mfa'] : ['compliantDevice', 'domainJoinedDevice'],
      customAuthenticationFactors: [],
      termsOfUse: [],
      'authenticationStrength@odata.context': `https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('${id}')/grantControls/authenticationStrength/$entity`,
      authenticationStrength: null,
    },
  } as GraphDoc;
}

/** A tenant fixture with `counts` policies of each collection, in Graph's shapes. */
export function generateTenant(options: GenerateOptions): TenantFixture {
  const r = new Random(options.seed ?? 1);
  const c: Context = {
    r,
    groups: Array.from({ length: 12 }, () => r.guid()),
    filters: Array.from({ length: 3 }, () => r.guid()),
    definitions: Array.from({ length: DEFINITION_POOL }, (_, i) => catalogDefinition(i)),
  };
  const tenantId = options.tenantId ?? r.guid();
  const domain = options.domain ?? `tenant-${tenantId.slice(0, 8)}.onmicrosoft.com`;
  const times = (name: CollectionName, make: (i: number) => GraphDoc) =>
    Array.from({ length: options.counts[name] ?? 0 }, (_, i) => make(i));
  return {
    tenantId,
    domains: [domain],
    displayName: options.displayName ?? domain,
    apps: options.apps ?? [],
    settingDefinitions: c.definitions,
    collections: {
      deviceConfigurations: times('deviceConfigurations', (i) => deviceConfiguration(c, i)),
      deviceCompliancePolicies: times('deviceCompliancePolicies', (i) => compliancePolicy(c, i)),
      configurationPolicies: times('configurationPolicies', (i) =>
        settingsCatalogPolicy(
          c,
          i,
          i === 0 && options.largeSettingsPolicy ? options.largeSettingsPolicy : r.int(1, 4),
        ),
      ),
      groupPolicyConfigurations: times('groupPolicyConfigurations', (i) => groupPolicyConfiguration(c, i)),
      deviceEnrollmentConfigurations: times('deviceEnrollmentConfigurations', (i) =>
        enrollmentConfiguration(c, i),
      ),
      windowsAutopilotDeploymentProfiles: times('windowsAutopilotDeploymentProfiles', (i) =>
        autopilotProfile(c, i),
      ),
      deviceManagementScripts: times('deviceManagementScripts', (i) => deviceManagementScript(c, i)),
      intents: times('intents', (i) => intent(c, i)),
      managedAppPolicies: times('managedAppPolicies', (i) => appProtection(c, i)),
      conditionalAccessPolicies: times('conditionalAccessPolicies', (i) => conditionalAccess(c, i)),
    },
  };
}
