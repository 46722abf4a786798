import type { SourcePolicy } from '../policies';

/**
 * A deterministic synthetic tenant for the `demo` policy source, the tests and the benchmarks.
 *
 * Generation 0 is the base tenant; every later generation adds, removes and modifies a few policies.
 * On top of that every generation rewrites the volatile fields of every policy and reshuffles some
 * arrays, as a real provider does, so that only a diff that ignores both finds exactly `demoChanges`.
 */

// Taken from module scope because Jest runs modules in a vm context, where every lookup of a global
// such as `Math` is slow; in the hot paths here that tripled the time of a 50,000-policy tenant.
const { imul, floor } = Math;
const { isArray } = Array;

export interface DemoOptions {
  /** Policies in the base tenant; default 300. */
  size?: number;
  /**
   * Fraction of `size` touched per generation: a third added, two ninths removed, the rest modified.
   * The default, 0.03, gives 3 added, 2 removed and 4 modified at the default size.
   */
  changeRate?: number;
}

/** Keys are `${policyType}:${externalId}`, each list sorted. */
export interface DemoChanges {
  added: string[];
  removed: string[];
  modified: string[];
}

const DEFAULT_SIZE = 300;
const DEFAULT_CHANGE_RATE = 0.03;

export function demoPolicies(tenantSlug: string, generation: number, opts: DemoOptions = {}): SourcePolicy[] {
  checkGeneration(generation);
  const tenant = demoTenant(tenantSlug);
  const history = simulate(tenant, generation, opts);
  return history.live.map((serial) => {
    const identity = policyIdentity(tenant, serial);
    return renderPolicy(
      tenant,
      identity,
      valuesAt(tenant, identity, history.modifiedIn[serial], generation),
      {
        generation,
        bornIn: history.bornIn[serial],
      },
    );
  });
}

/**
 * What a correct comparison of the two generations finds. Worked out from the churn history and the
 * setting values alone, without rendering or normalizing payloads, so it can check the code that does.
 */
export function demoChanges(
  tenantSlug: string,
  fromGeneration: number,
  toGeneration: number,
  opts: DemoOptions = {},
): DemoChanges {
  checkGeneration(fromGeneration);
  checkGeneration(toGeneration);
  const tenant = demoTenant(tenantSlug);
  const history = simulate(tenant, Math.max(fromGeneration, toGeneration), opts);
  const [earlier, later] = [Math.min(fromGeneration, toGeneration), Math.max(fromGeneration, toGeneration)];
  const changes: DemoChanges = { added: [], removed: [], modified: [] };
  for (let serial = 0; serial < history.bornIn.length; serial++) {
    const before = history.isLive(serial, fromGeneration);
    const after = history.isLive(serial, toGeneration);
    if (!before && !after) continue;
    const modifiedIn = history.modifiedIn[serial];
    if (before && after && !modifiedIn?.some((g) => g > earlier && g <= later)) continue;
    const identity = policyIdentity(tenant, serial);
    const key = `${identity.profile.policyType}:${identity.externalId}`;
    if (!before) changes.added.push(key);
    else if (!after) changes.removed.push(key);
    else if (
      !sameValues(
        valuesAt(tenant, identity, modifiedIn, earlier),
        valuesAt(tenant, identity, modifiedIn, later),
      )
    )
      changes.modified.push(key);
  }
  changes.added.sort();
  changes.removed.sort();
  changes.modified.sort();
  return changes;
}

function checkGeneration(generation: number): void {
  if (!Number.isInteger(generation) || generation < 0) {
    throw new RangeError(`demo generation must be a non-negative integer, got ${generation}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Randomness: small, seedable and identical on every platform, unlike Math.random.

const SALT_IDENTITY = 1;
const SALT_CHURN = 2;
const SALT_MODIFY = 3;
const SALT_RENDER = 4;

/** murmur3's finalizer: a bijection on 32-bit integers, which keeps external ids unique per tenant. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function seedOf(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) h = fmix32((h + imul(part | 0, 0x9e3779b1)) ^ 0x27d4eb2f);
  return h;
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = imul(h ^ text.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/** mulberry32 */
class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = imul(this.state ^ (this.state >>> 15), this.state | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return floor((this.uint32() / 4294967296) * n);
  }

  chance(p: number): boolean {
    return this.uint32() / 4294967296 < p;
  }
}

const BYTE_HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function hex4(value: number): string {
  return BYTE_HEX[(value >>> 8) & 255] + BYTE_HEX[value & 255];
}

function hex8(value: number): string {
  return hex4(value >>> 16) + hex4(value);
}

/** `join` yields a flat string; a template literal leaves a rope that the first Map lookup must flatten. */
function guid(head: number, rng: Rng): string {
  const b = rng.uint32();
  const c = rng.uint32();
  return [
    hex8(head),
    hex4(b >>> 16),
    hex4(0x4000 | (b & 0x0fff)),
    hex4(0x8000 | ((c >>> 16) & 0x3fff)),
    hex4(c) + hex8(rng.uint32()),
  ].join('-');
}

// ---------------------------------------------------------------------------------------------------
// Churn: which policies exist and which were modified in each generation. Cheap bookkeeping only, so
// replaying the history is fast even for large tenants.

interface Tenant {
  seed: number;
  organization: string;
}

function demoTenant(slug: string): Tenant {
  const organization = slug
    .split(/[-_\s]+/)
    .filter(Boolean)
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join(' ');
  return { seed: hashString(slug), organization: organization || 'Demo' };
}

interface History {
  /** Serials of the policies present at the last simulated generation, ascending. */
  live: number[];
  bornIn: number[];
  /** Generations in which a policy was modified, ascending; missing when never modified. */
  modifiedIn: (number[] | undefined)[];
  isLive(serial: number, generation: number): boolean;
}

function simulate(tenant: Tenant, generations: number, opts: DemoOptions): History {
  const size = opts.size ?? DEFAULT_SIZE;
  const changeRate = opts.changeRate ?? DEFAULT_CHANGE_RATE;
  if (!Number.isInteger(size) || size < 0)
    throw new RangeError(`demo size must be a non-negative integer, got ${size}`);
  if (!(changeRate >= 0 && changeRate <= 1))
    throw new RangeError(`demo changeRate must be within [0, 1], got ${changeRate}`);

  const touched = Math.round(size * changeRate);
  const toAdd = Math.round(touched / 3);
  const toRemove = Math.round((touched * 2) / 9);
  const toModify = touched - toAdd - toRemove;

  const bornIn: number[] = new Array<number>(size).fill(0);
  const removedIn: number[] = new Array<number>(size).fill(Infinity);
  const modifiedIn: (number[] | undefined)[] = [];
  let live = Array.from({ length: size }, (_, serial) => serial);

  for (let generation = 1; generation <= generations; generation++) {
    const rng = new Rng(seedOf(tenant.seed, SALT_CHURN, generation));
    const removing = Math.min(toRemove, live.length);
    const modifying = Math.min(toModify, live.length - removing);
    // A partial Fisher–Yates shuffle: the first `removing + modifying` slots are a uniform sample.
    const pool = live.slice();
    for (let i = 0; i < removing + modifying; i++) {
      const j = i + rng.below(pool.length - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
      if (i < removing) removedIn[pool[i]] = generation;
      else (modifiedIn[pool[i]] ??= []).push(generation);
    }
    if (removing > 0) live = live.filter((serial) => removedIn[serial] === Infinity);
    for (let i = 0; i < toAdd; i++) {
      live.push(bornIn.length);
      bornIn.push(generation);
      removedIn.push(Infinity);
    }
  }

  return {
    live,
    bornIn,
    modifiedIn,
    isLive: (serial, generation) => bornIn[serial] <= generation && removedIn[serial] > generation,
  };
}

// ---------------------------------------------------------------------------------------------------
// Payload skeletons. A profile's skeleton is the full provider document with `Knob`s where policies
// differ and `Fill`s where the provider writes per-policy or per-read values.

type Scalar = string | number | boolean | null;
type Node = Scalar | Knob | Fill | readonly Node[] | { readonly [key: string]: Node };

/** A setting that takes one of `domain` per policy; modifications move it to another one. */
class Knob {
  slot = -1;

  constructor(readonly domain: readonly Node[]) {}
}

type FillKind =
  | 'externalId'
  | 'displayName'
  | 'created'
  | 'modified'
  | 'etag'
  | 'version'
  | 'versionString'
  | 'position'
  | 'freshId';

class Fill {
  constructor(readonly kind: FillKind) {}
}

const EXTERNAL_ID = new Fill('externalId');
const DISPLAY_NAME = new Fill('displayName');
const CREATED = new Fill('created');
const MODIFIED = new Fill('modified');
const ETAG = new Fill('etag');
const VERSION = new Fill('version');
const VERSION_STRING = new Fill('versionString');
/** Graph numbers settings-catalog elements by position, so the id moves whenever the order does. */
const POSITION_ID = new Fill('position');
/** Sub-entity ids that Graph regenerates when a policy is saved. */
const FRESH_ID = new Fill('freshId');

const knob = (...domain: Node[]): Knob => new Knob(domain);
const toggle = (): Knob => knob(true, false);

type PolicyType =
  'deviceConfiguration' | 'compliancePolicy' | 'settingsCatalog' | 'appProtection' | 'endpointSecurity';
type Platform = 'windows10' | 'iOS' | 'android' | 'macOS';

interface Profile {
  policyType: PolicyType;
  platform: Platform;
  label: string;
  weight: number;
  skeleton: Node;
  knobs: Knob[];
}

function collectKnobs(node: Node, knobs: Knob[]): void {
  if (node === null || typeof node !== 'object' || node instanceof Fill) return;
  if (node instanceof Knob) {
    node.slot = knobs.length;
    knobs.push(node);
    return;
  }
  for (const child of isArray(node) ? node : Object.values(node)) collectKnobs(child, knobs);
}

function profile(
  policyType: PolicyType,
  platform: Platform,
  label: string,
  weight: number,
  skeleton: Node,
): Profile {
  const knobs: Knob[] = [];
  collectKnobs(skeleton, knobs);
  return { policyType, platform, label, weight, skeleton, knobs };
}

const METADATA = 'https://graph.microsoft.com/beta/$metadata#';
const MANAGED_BY = 'Managed by the Tenant Operations Hub demo source.';
const HELPDESK_GROUP = 'b0d3a2c6-7e41-4f2a-9c55-3e0f7d8a1b24';
const SECURITY_GROUP = '5f8e2d1c-9a3b-4c6d-8e7f-0a1b2c3d4e5f';
const NOTIFICATION_TEMPLATE = '2c4e6a8b-1d3f-4a5c-b7e9-0f2a4c6e8b1d';

function deviceManagementHead(entitySet: string, odataType: string): Record<string, Node> {
  return {
    '@odata.context': `${METADATA}deviceManagement/${entitySet}/$entity`,
    '@odata.type': odataType,
    '@odata.etag': ETAG,
    id: EXTERNAL_ID,
    createdDateTime: CREATED,
    lastModifiedDateTime: MODIFIED,
    roleScopeTagIds: ['0'],
    supportsScopeTags: true,
    displayName: DISPLAY_NAME,
    description: MANAGED_BY,
    version: VERSION,
  };
}

function scheduledActionsForRule(): Node[] {
  return [
    {
      ruleName: 'PasswordRequired',
      scheduledActionConfigurations: [
        {
          id: FRESH_ID,
          actionType: 'block',
          gracePeriodHours: knob(0, 12, 24, 72),
          notificationTemplateId: '',
          notificationMessageCCList: [],
        },
        {
          id: FRESH_ID,
          actionType: 'notification',
          gracePeriodHours: knob(0, 24, 48),
          notificationTemplateId: NOTIFICATION_TEMPLATE,
          notificationMessageCCList: knob([], [HELPDESK_GROUP], [HELPDESK_GROUP, SECURITY_GROUP]),
        },
      ],
    },
  ];
}

const threatLevel = (): Knob => knob('unavailable', 'secured', 'low', 'medium', 'high');
const passwordType = (): Knob => knob('deviceDefault', 'alphanumeric', 'numeric');
const malwareAction = (): Knob => knob('deviceDefault', 'clean', 'quarantine', 'remove', 'block');

const CATALOG = '#microsoft.graph.deviceManagementConfiguration';

type CatalogInstance = { readonly settingDefinitionId: string; readonly [key: string]: Node };

function choice(
  settingDefinitionId: string,
  options: string[],
  children: CatalogInstance[] = [],
): CatalogInstance {
  return {
    '@odata.type': `${CATALOG}ChoiceSettingInstance`,
    settingDefinitionId,
    settingInstanceTemplateReference: null,
    choiceSettingValue: {
      '@odata.type': `${CATALOG}ChoiceSettingValue`,
      value: knob(...options.map((option) => `${settingDefinitionId}_${option}`)),
      children,
    },
  };
}

function integer(settingDefinitionId: string, values: number[]): CatalogInstance {
  return {
    '@odata.type': `${CATALOG}SimpleSettingInstance`,
    settingDefinitionId,
    settingInstanceTemplateReference: null,
    simpleSettingValue: {
      '@odata.type': `${CATALOG}IntegerSettingValue`,
      value: knob(...values),
    },
  };
}

function stringCollection(settingDefinitionId: string, lists: string[][]): CatalogInstance {
  return {
    '@odata.type': `${CATALOG}SimpleSettingCollectionInstance`,
    settingDefinitionId,
    settingInstanceTemplateReference: null,
    simpleSettingCollectionValue: knob(
      ...lists.map((list) =>
        list.map((value) => ({
          '@odata.type': `${CATALOG}StringSettingValue`,
          value,
        })),
      ),
    ),
  };
}

function settingsCatalog(
  platform: Platform,
  label: string,
  weight: number,
  instances: CatalogInstance[],
): Profile {
  return profile('settingsCatalog', platform, label, weight, {
    '@odata.context': `${METADATA}deviceManagement/configurationPolicies(settings())/$entity`,
    '@odata.type': '#microsoft.graph.deviceManagementConfigurationPolicy',
    '@odata.etag': ETAG,
    id: EXTERNAL_ID,
    createdDateTime: CREATED,
    lastModifiedDateTime: MODIFIED,
    name: DISPLAY_NAME,
    description: MANAGED_BY,
    platforms: platform,
    technologies: 'mdm',
    roleScopeTagIds: ['0'],
    settingCount: instances.length,
    creationSource: null,
    templateReference: {
      templateId: '',
      templateFamily: 'none',
      templateDisplayName: null,
      templateDisplayVersion: null,
    },
    // The element repeats its instance's definition id so normalization and the diff can key it.
    settings: instances.map((settingInstance) => ({
      id: POSITION_ID,
      settingDefinitionId: settingInstance.settingDefinitionId,
      settingInstance,
    })),
  });
}

type IntentKind = 'Boolean' | 'String' | 'Integer' | 'Collection';

function intentSetting(kind: IntentKind, definition: string, valuesJson: string[]): Node {
  return {
    '@odata.type': `#microsoft.graph.deviceManagement${kind}SettingInstance`,
    id: FRESH_ID,
    definitionId: `deviceConfiguration--${definition}`,
    valueJson: knob(...valuesJson),
  };
}

const booleanIntent = (definition: string): Node => intentSetting('Boolean', definition, ['true', 'false']);

function endpointSecurity(
  platform: Platform,
  label: string,
  weight: number,
  templateId: string,
  settings: Node[],
): Profile {
  return profile('endpointSecurity', platform, label, weight, {
    '@odata.context': `${METADATA}deviceManagement/intents(settings())/$entity`,
    '@odata.type': '#microsoft.graph.deviceManagementIntent',
    '@odata.etag': ETAG,
    id: EXTERNAL_ID,
    displayName: DISPLAY_NAME,
    description: MANAGED_BY,
    isAssigned: true,
    isMigratingToConfigurationPolicy: false,
    lastModifiedDateTime: MODIFIED,
    templateId,
    roleScopeTagIds: ['0'],
    settings,
  });
}

function appProtection(
  platform: 'iOS' | 'android',
  weight: number,
  platformFields: Record<string, Node>,
): Profile {
  const collection = platform === 'iOS' ? 'iosManagedAppProtections' : 'androidManagedAppProtections';
  const odataType =
    platform === 'iOS'
      ? '#microsoft.graph.iosManagedAppProtection'
      : '#microsoft.graph.androidManagedAppProtection';
  return profile('appProtection', platform, 'App protection - Office', weight, {
    '@odata.context': `${METADATA}deviceAppManagement/${collection}/$entity`,
    '@odata.type': odataType,
    '@odata.etag': ETAG,
    id: EXTERNAL_ID,
    displayName: DISPLAY_NAME,
    description: MANAGED_BY,
    createdDateTime: CREATED,
    lastModifiedDateTime: MODIFIED,
    roleScopeTagIds: ['0'],
    version: VERSION_STRING,
    isAssigned: true,
    targetedAppManagementLevels: 'unspecified',
    periodOfflineBeforeAccessCheck: knob('PT12H', 'PT24H', 'PT72H'),
    periodOnlineBeforeAccessCheck: knob('PT30M', 'PT1H'),
    allowedInboundDataTransferSources: knob('allApps', 'managedApps', 'none'),
    allowedOutboundDataTransferDestinations: knob('allApps', 'managedApps', 'none'),
    organizationalCredentialsRequired: false,
    allowedOutboundClipboardSharingLevel: knob('allApps', 'managedAppsWithPasteIn', 'managedApps', 'blocked'),
    dataBackupBlocked: toggle(),
    deviceComplianceRequired: toggle(),
    managedBrowserToOpenLinksRequired: toggle(),
    saveAsBlocked: toggle(),
    periodOfflineBeforeWipeIsEnforced: knob('P30D', 'P90D'),
    pinRequired: toggle(),
    maximumPinRetries: knob(5, 8, 10),
    simplePinBlocked: toggle(),
    minimumPinLength: knob(4, 6),
    pinCharacterSet: knob('numeric', 'alphanumericAndSymbol'),
    allowedDataStorageLocations: knob(
      ['oneDriveForBusiness', 'sharePoint'],
      ['oneDriveForBusiness'],
      ['oneDriveForBusiness', 'sharePoint', 'box'],
    ),
    contactSyncBlocked: toggle(),
    printBlocked: toggle(),
    fingerprintBlocked: toggle(),
    disableAppPinIfDevicePinIsSet: toggle(),
    appActionIfDeviceComplianceRequired: knob('block', 'wipe'),
    appActionIfMaximumPinRetriesExceeded: knob('block', 'wipe'),
    ...platformFields,
  });
}

function iosApps(bundleIds: string[]): Node[] {
  return bundleIds.map((bundleId) => ({
    id: `${bundleId}.ios`,
    mobileAppIdentifier: { '@odata.type': '#microsoft.graph.iosMobileAppIdentifier', bundleId },
  }));
}

function androidApps(packageIds: string[]): Node[] {
  return packageIds.map((packageId) => ({
    id: `${packageId}.android`,
    mobileAppIdentifier: { '@odata.type': '#microsoft.graph.androidMobileAppIdentifier', packageId },
  }));
}

const BITLOCKER = 'device_vendor_msft_bitlocker_';
const DEFENDER = 'device_vendor_msft_policy_config_defender_';
const EDGE = 'device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge';
const XTS = ['3', '4', '6', '7'];
const ON_OFF = ['0', '1'];
const ENDPOINT_PROTECTION = 'windows10EndpointProtectionConfiguration_';
const MAC_ENDPOINT_PROTECTION = 'macOSEndpointProtectionConfiguration_';
const ASR_MODES = ['"userDefined"', '"block"', '"auditMode"', '"warn"'];

const PROFILES: readonly Profile[] = [
  profile('deviceConfiguration', 'windows10', 'Device restrictions', 4, {
    ...deviceManagementHead('deviceConfigurations', '#microsoft.graph.windows10GeneralConfiguration'),
    passwordRequired: toggle(),
    passwordRequiredType: passwordType(),
    passwordMinimumLength: knob(6, 8, 10, 12, 14),
    passwordMinutesOfInactivityBeforeScreenTimeout: knob(5, 10, 15, 30),
    passwordExpirationDays: knob(null, 30, 60, 90),
    passwordPreviousPasswordBlockCount: knob(0, 5, 10, 24),
    passwordBlockSimple: toggle(),
    passwordSignInFailureCountBeforeFactoryReset: knob(null, 5, 10),
    bluetoothBlocked: toggle(),
    cameraBlocked: toggle(),
    storageBlockRemovableStorage: toggle(),
    usbBlocked: toggle(),
    cortanaBlocked: toggle(),
    windowsSpotlightBlocked: toggle(),
    edgeBlockPopups: toggle(),
    edgeBlockPasswordManager: toggle(),
    smartScreenEnableAppInstallControl: toggle(),
    smartScreenBlockPromptOverride: toggle(),
    settingsBlockChangeSystemTime: toggle(),
    privacyBlockInputPersonalization: toggle(),
    enterpriseCloudPrintDiscoveryEndPoint: null,
  }),
  profile('deviceConfiguration', 'windows10', 'Defender baseline', 3, {
    ...deviceManagementHead('deviceConfigurations', '#microsoft.graph.windows10GeneralConfiguration'),
    defenderRequireRealTimeMonitoring: toggle(),
    defenderRequireBehaviorMonitoring: toggle(),
    defenderRequireCloudProtection: toggle(),
    defenderRequireNetworkInspectionSystem: toggle(),
    defenderScanArchiveFiles: toggle(),
    defenderScanIncomingMail: toggle(),
    defenderScanRemovableDrivesDuringFullScan: toggle(),
    defenderMonitorFileActivity: knob(
      'userDefined',
      'disable',
      'monitorAllFiles',
      'monitorIncomingFilesOnly',
      'monitorOutgoingFilesOnly',
    ),
    defenderScanType: knob('userDefined', 'disabled', 'quick', 'full'),
    defenderSystemScanSchedule: knob('userDefined', 'everyday', 'sunday', 'saturday'),
    defenderScheduledScanTime: knob('02:00:00.0000000', '03:00:00.0000000', '12:00:00.0000000'),
    defenderSignatureUpdateIntervalInHours: knob(2, 4, 8, 24),
    defenderCloudBlockLevel: knob('notConfigured', 'high', 'highPlus', 'zeroTolerance'),
    defenderPotentiallyUnwantedAppAction: knob('deviceDefault', 'block', 'audit'),
    defenderDaysBeforeDeletingQuarantinedMalware: knob(0, 15, 30, 90),
    defenderScanMaxCpu: knob(20, 30, 50),
    defenderFileExtensionsToExclude: knob([], ['.log', '.tmp'], ['.log', '.tmp', '.bak', '.vhdx']),
    defenderProcessesToExclude: [
      'C:\\Program Files\\Backup Agent\\agent.exe',
      'C:\\Windows\\System32\\svchost.exe',
    ],
    defenderDetectedMalwareActions: {
      '@odata.type': '#microsoft.graph.defenderDetectedMalwareActions',
      lowSeverity: malwareAction(),
      moderateSeverity: malwareAction(),
      highSeverity: malwareAction(),
      severeSeverity: malwareAction(),
    },
  }),
  profile('deviceConfiguration', 'iOS', 'Device restrictions', 3, {
    ...deviceManagementHead('deviceConfigurations', '#microsoft.graph.iosGeneralDeviceConfiguration'),
    passcodeRequired: toggle(),
    passcodeBlockSimple: toggle(),
    passcodeMinimumLength: knob(4, 6, 8),
    passcodeMinutesOfInactivityBeforeLock: knob(0, 1, 5, 15),
    passcodeMinutesOfInactivityBeforeScreenTimeout: knob(1, 2, 5),
    passcodeExpirationDays: knob(null, 90, 180),
    passcodeRequiredType: passwordType(),
    passcodeSignInFailureCountBeforeWipe: knob(null, 6, 10),
    cameraBlocked: toggle(),
    screenCaptureBlocked: toggle(),
    iCloudBlockBackup: toggle(),
    iCloudBlockDocumentSync: toggle(),
    appStoreBlocked: toggle(),
    appStoreBlockInAppPurchases: toggle(),
    safariBlockAutofill: toggle(),
    safariRequireFraudWarning: toggle(),
    airDropBlocked: toggle(),
    bluetoothModificationBlocked: toggle(),
    enterpriseAppBlockTrust: toggle(),
    appsVisibilityListType: 'none',
    appsVisibilityList: [],
    compliantAppsList: [],
  }),
  profile('deviceConfiguration', 'android', 'Device restrictions', 2, {
    ...deviceManagementHead('deviceConfigurations', '#microsoft.graph.androidGeneralDeviceConfiguration'),
    passwordRequired: toggle(),
    passwordMinimumLength: knob(4, 6, 8),
    passwordRequiredType: knob('deviceDefault', 'alphabetic', 'alphanumeric', 'numeric', 'numericComplex'),
    passwordMinutesOfInactivityBeforeScreenTimeout: knob(1, 5, 15),
    passwordSignInFailureCountBeforeFactoryReset: knob(4, 6, 10),
    passwordExpirationDays: knob(null, 90),
    passwordBlockFingerprintUnlock: toggle(),
    cameraBlocked: toggle(),
    bluetoothBlocked: toggle(),
    storageBlockRemovableStorage: toggle(),
    storageRequireDeviceEncryption: toggle(),
    screenCaptureBlocked: toggle(),
    googleBackupBlocked: toggle(),
    factoryResetBlocked: toggle(),
    locationServicesBlocked: toggle(),
    nfcBlocked: toggle(),
    deviceSharingAllowed: false,
  }),
  profile('deviceConfiguration', 'macOS', 'Device restrictions', 2, {
    ...deviceManagementHead('deviceConfigurations', '#microsoft.graph.macOSGeneralDeviceConfiguration'),
    passwordRequired: toggle(),
    passwordBlockSimple: toggle(),
    passwordMinimumLength: knob(8, 10, 12, 14),
    passwordMinimumCharacterSetCount: knob(null, 1, 2),
    passwordMinutesOfInactivityBeforeLock: knob(0, 5, 15),
    passwordMinutesOfInactivityBeforeScreenTimeout: knob(5, 10, 15),
    passwordPreviousPasswordBlockCount: knob(null, 5, 10),
    passwordRequiredType: passwordType(),
    airDropBlocked: toggle(),
    cameraBlocked: toggle(),
    iCloudBlockDocumentSync: toggle(),
    iCloudBlockMail: toggle(),
    screenCaptureBlocked: toggle(),
    safariBlockAutofill: toggle(),
    spotlightBlockInternetResults: toggle(),
    contentCachingBlocked: toggle(),
    compliantAppsList: [],
    emailInDomainSuffixes: [],
  }),
  profile('compliancePolicy', 'windows10', 'Compliance baseline', 4, {
    ...deviceManagementHead('deviceCompliancePolicies', '#microsoft.graph.windows10CompliancePolicy'),
    passwordRequired: toggle(),
    passwordBlockSimple: toggle(),
    passwordRequiredType: passwordType(),
    passwordMinimumLength: knob(6, 8, 10, 12),
    passwordMinutesOfInactivityBeforeLock: knob(5, 15, 30),
    passwordExpirationDays: knob(null, 60, 90),
    passwordPreviousPasswordBlockCount: knob(null, 5, 10),
    requireHealthyDeviceReport: false,
    osMinimumVersion: knob('10.0.19044.0', '10.0.19045.0', '10.0.22621.0', '10.0.22631.0'),
    osMaximumVersion: knob(null, '10.0.26100.9999'),
    earlyLaunchAntiMalwareDriverEnabled: toggle(),
    bitLockerEnabled: toggle(),
    secureBootEnabled: toggle(),
    codeIntegrityEnabled: toggle(),
    storageRequireEncryption: toggle(),
    activeFirewallRequired: toggle(),
    defenderEnabled: toggle(),
    signatureOutOfDate: toggle(),
    rtpEnabled: toggle(),
    antivirusRequired: toggle(),
    antiSpywareRequired: toggle(),
    deviceThreatProtectionEnabled: toggle(),
    deviceThreatProtectionRequiredSecurityLevel: threatLevel(),
    configurationManagerComplianceRequired: false,
    tpmRequired: toggle(),
    validOperatingSystemBuildRanges: [],
    scheduledActionsForRule: scheduledActionsForRule(),
  }),
  profile('compliancePolicy', 'iOS', 'Compliance', 2, {
    ...deviceManagementHead('deviceCompliancePolicies', '#microsoft.graph.iosCompliancePolicy'),
    passcodeRequired: toggle(),
    passcodeBlockSimple: toggle(),
    passcodeMinimumLength: knob(4, 6, 8),
    passcodeMinutesOfInactivityBeforeLock: knob(0, 1, 5, 15),
    passcodeExpirationDays: knob(null, 90),
    passcodeRequiredType: passwordType(),
    osMinimumVersion: knob('16.0', '17.0', '17.4', '18.0'),
    osMaximumVersion: knob(null, '18.99'),
    osMinimumBuildVersion: null,
    securityBlockJailbrokenDevices: toggle(),
    deviceThreatProtectionEnabled: toggle(),
    deviceThreatProtectionRequiredSecurityLevel: threatLevel(),
    advancedThreatProtectionRequiredSecurityLevel: threatLevel(),
    managedEmailProfileRequired: toggle(),
    restrictedApps: [],
    scheduledActionsForRule: scheduledActionsForRule(),
  }),
  profile('compliancePolicy', 'android', 'Compliance - fully managed', 2, {
    ...deviceManagementHead(
      'deviceCompliancePolicies',
      '#microsoft.graph.androidDeviceOwnerCompliancePolicy',
    ),
    passwordRequired: toggle(),
    passwordMinimumLength: knob(4, 6, 8),
    passwordRequiredType: knob(
      'deviceDefault',
      'required',
      'numeric',
      'numericComplex',
      'alphabetic',
      'alphanumeric',
    ),
    passwordMinutesOfInactivityBeforeLock: knob(1, 5, 15),
    passwordExpirationDays: knob(null, 90),
    osMinimumVersion: knob('11', '12', '13', '14'),
    osMaximumVersion: null,
    minAndroidSecurityPatchLevel: knob('2024-01-01', '2024-07-01', '2025-01-01'),
    securityRequireSafetyNetAttestationBasicIntegrity: toggle(),
    securityRequireSafetyNetAttestationCertifiedDevice: toggle(),
    securityRequireIntuneAppIntegrity: toggle(),
    storageRequireEncryption: toggle(),
    deviceThreatProtectionEnabled: toggle(),
    deviceThreatProtectionRequiredSecurityLevel: threatLevel(),
    scheduledActionsForRule: scheduledActionsForRule(),
  }),
  profile('compliancePolicy', 'macOS', 'Compliance', 2, {
    ...deviceManagementHead('deviceCompliancePolicies', '#microsoft.graph.macOSCompliancePolicy'),
    passwordRequired: toggle(),
    passwordBlockSimple: toggle(),
    passwordMinimumLength: knob(8, 10, 12),
    passwordMinutesOfInactivityBeforeLock: knob(5, 15),
    passwordRequiredType: passwordType(),
    osMinimumVersion: knob('13.0', '14.0', '14.5', '15.0'),
    osMaximumVersion: null,
    systemIntegrityProtectionEnabled: toggle(),
    deviceThreatProtectionEnabled: toggle(),
    storageRequireEncryption: toggle(),
    gatekeeperAllowedAppSource: knob(
      'notConfigured',
      'macAppStore',
      'macAppStoreAndIdentifiedDevelopers',
      'anywhere',
    ),
    firewallEnabled: toggle(),
    firewallBlockAllIncoming: toggle(),
    firewallEnableStealthMode: toggle(),
    scheduledActionsForRule: scheduledActionsForRule(),
  }),
  settingsCatalog('windows10', 'BitLocker baseline', 3, [
    choice(`${BITLOCKER}requiredeviceencryption`, ON_OFF),
    choice(`${BITLOCKER}encryptionmethodbydrivetype`, ON_OFF, [
      choice(`${BITLOCKER}encryptionmethodbydrivetype_encryptionmethodwithxtsosdropdown_name`, XTS),
      choice(`${BITLOCKER}encryptionmethodbydrivetype_encryptionmethodwithxtsfdvdropdown_name`, XTS),
    ]),
    choice(`${BITLOCKER}systemdrivesminimumpinlength`, ON_OFF, [
      integer(`${BITLOCKER}systemdrivesminimumpinlength_minpinlength`, [6, 8, 10, 12]),
    ]),
  ]),
  settingsCatalog('windows10', 'Defender Antivirus', 4, [
    choice(`${DEFENDER}allowarchivescanning`, ON_OFF),
    choice(`${DEFENDER}allowrealtimemonitoring`, ON_OFF),
    choice(`${DEFENDER}cloudblocklevel`, ['0', '2', '4', '6']),
    integer(`${DEFENDER}avgcpuloadfactor`, [20, 30, 50]),
    stringCollection(`${DEFENDER}excludedextensions`, [
      ['log', 'tmp'],
      ['log', 'tmp', 'bak'],
      ['vhd', 'vhdx'],
    ]),
  ]),
  settingsCatalog('windows10', 'Edge hardening', 2, [
    choice(`${EDGE}_passwordmanagerenabled`, ON_OFF),
    choice(`${EDGE}~smartscreen_smartscreenenabled`, ON_OFF),
    choice(`${EDGE}~smartscreen_preventsmartscreenpromptoverride`, ON_OFF),
    choice(`${EDGE}_sslerroroverrideallowed`, ON_OFF),
  ]),
  settingsCatalog('macOS', 'FileVault and screen lock', 2, [
    choice('com.apple.mcx.filevault2_enable', ON_OFF),
    integer('com.apple.screensaver_idletime', [300, 600, 900, 1200]),
    choice('com.apple.screensaver_askforpassword', ['false', 'true']),
    integer('com.apple.mobiledevice.passwordpolicy_minlength', [8, 10, 12, 14]),
  ]),
  appProtection('iOS', 3, {
    appDataEncryptionType: knob(
      'useDeviceSettings',
      'afterDeviceRestart',
      'whenDeviceLockedExceptOpenFiles',
      'whenDeviceLocked',
    ),
    faceIdBlocked: toggle(),
    minimumRequiredOsVersion: knob(null, '16.0', '17.0'),
    apps: knob(
      iosApps(['com.microsoft.office.outlook', 'com.microsoft.skydrive']),
      iosApps(['com.microsoft.office.outlook', 'com.microsoft.skydrive', 'com.microsoft.skype.teams']),
    ),
  }),
  appProtection('android', 3, {
    screenCaptureBlocked: toggle(),
    encryptAppData: toggle(),
    disableAppEncryptionIfDeviceEncryptionIsEnabled: toggle(),
    requiredAndroidSafetyNetDeviceAttestationType: knob(
      'none',
      'basicIntegrity',
      'basicIntegrityAndDeviceCertification',
    ),
    minimumRequiredOsVersion: knob(null, '11.0', '13.0'),
    apps: knob(
      androidApps(['com.microsoft.office.outlook', 'com.microsoft.skydrive']),
      androidApps(['com.microsoft.office.outlook', 'com.microsoft.skydrive', 'com.microsoft.teams']),
    ),
  }),
  endpointSecurity('windows10', 'Firewall', 2, '4356d05c-a4ab-4a07-9ece-739f7c792910', [
    booleanIntent(`${ENDPOINT_PROTECTION}firewallBlockStatefulFTP`),
    booleanIntent(`${ENDPOINT_PROTECTION}firewallIPSecExemptionsAllowDHCP`),
    booleanIntent(`${ENDPOINT_PROTECTION}firewallMergeKeyingModuleSettings`),
    intentSetting('Integer', `${ENDPOINT_PROTECTION}firewallIdleTimeoutForSecurityAssociationInSeconds`, [
      '300',
      '600',
      '3600',
    ]),
    intentSetting('String', `${ENDPOINT_PROTECTION}firewallPacketQueueingMethod`, [
      '"deviceDefault"',
      '"disabled"',
      '"queueInbound"',
      '"queueBoth"',
    ]),
    intentSetting('String', `${ENDPOINT_PROTECTION}firewallCertificateRevocationListCheckMethod`, [
      '"deviceDefault"',
      '"none"',
      '"attempt"',
      '"require"',
    ]),
  ]),
  endpointSecurity('windows10', 'Attack surface reduction', 2, '0e237410-1367-4844-bd7f-15fb0f08943b', [
    intentSetting('String', `${ENDPOINT_PROTECTION}defenderOfficeAppsOtherProcessInjectionType`, ASR_MODES),
    intentSetting(
      'String',
      `${ENDPOINT_PROTECTION}defenderOfficeAppsExecutableContentCreationOrLaunchType`,
      ASR_MODES,
    ),
    intentSetting('String', `${ENDPOINT_PROTECTION}defenderScriptObfuscatedMacroCodeType`, ASR_MODES),
    intentSetting('String', `${ENDPOINT_PROTECTION}defenderEmailContentExecutionType`, ASR_MODES),
    intentSetting('String', `${ENDPOINT_PROTECTION}defenderProcessCreationType`, ASR_MODES),
    intentSetting('Collection', `${ENDPOINT_PROTECTION}defenderAttackSurfaceReductionExcludedPaths`, [
      '[]',
      '["C:\\\\Tools"]',
      '["C:\\\\Tools","D:\\\\Build"]',
    ]),
  ]),
  endpointSecurity('macOS', 'FileVault', 1, 'a239407c-698d-4ef8-b314-e3ae409204b8', [
    booleanIntent(`${MAC_ENDPOINT_PROTECTION}fileVaultEnabled`),
    booleanIntent(`${MAC_ENDPOINT_PROTECTION}fileVaultDisablePromptAtSignOut`),
    booleanIntent(`${MAC_ENDPOINT_PROTECTION}fileVaultHidePersonalRecoveryKey`),
    intentSetting('Integer', `${MAC_ENDPOINT_PROTECTION}fileVaultNumberOfTimesUserCanIgnore`, [
      '1',
      '3',
      '5',
    ]),
    intentSetting('Integer', `${MAC_ENDPOINT_PROTECTION}fileVaultPersonalRecoveryKeyRotationInMonths`, [
      '6',
      '12',
    ]),
  ]),
];

const TOTAL_WEIGHT = PROFILES.reduce((sum, p) => sum + p.weight, 0);

const PLATFORM_LABELS: Record<Platform, string> = {
  windows10: 'Win10',
  iOS: 'iOS',
  android: 'Android',
  macOS: 'macOS',
};
const AUDIENCES = [
  '',
  ' - Pilot',
  ' - Ring 1',
  ' - Ring 2',
  ' - Broad',
  ' - Finance',
  ' - Sales',
  ' - Engineering',
  ' - Frontline',
  ' - Executives',
];

// ---------------------------------------------------------------------------------------------------
// Policies: identity and base settings come from (tenant, serial); modifications from
// (tenant, serial, generation); volatile fields and array order from (tenant, serial, rendered generation).

interface PolicyIdentity {
  serial: number;
  profile: Profile;
  externalId: string;
  displayName: string;
  baseValues: Uint8Array;
  /** Minutes before the epoch at which a base policy was created. */
  age: number;
  versionBase: number;
}

const EPOCH = Date.UTC(2025, 0, 6, 8, 0, 0);
const DAY = 86_400_000;
const MINUTE = 60_000;

/** `Date#toISOString` is a noticeable share of a 50,000-policy render, and the date part repeats a lot. */
const DATE_PREFIXES = new Map<number, string>();
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));

function timestamp(ms: number): string {
  const day = floor(ms / DAY);
  let prefix = DATE_PREFIXES.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY).toISOString().slice(0, 11);
    DATE_PREFIXES.set(day, prefix);
  }
  const minutes = floor((ms - day * DAY) / MINUTE);
  return `${prefix}${TWO_DIGITS[floor(minutes / 60)]}:${TWO_DIGITS[minutes % 60]}:00Z`;
}

function policyIdentity(tenant: Tenant, serial: number): PolicyIdentity {
  const rng = new Rng(seedOf(tenant.seed, SALT_IDENTITY, serial));
  let ticket = rng.below(TOTAL_WEIGHT);
  let chosen = PROFILES[0];
  for (const candidate of PROFILES) {
    chosen = candidate;
    ticket -= candidate.weight;
    if (ticket < 0) break;
  }
  const baseValues = new Uint8Array(chosen.knobs.length);
  for (let slot = 0; slot < baseValues.length; slot++)
    baseValues[slot] = rng.below(chosen.knobs[slot].domain.length);
  const audience = AUDIENCES[rng.below(AUDIENCES.length)];
  return {
    serial,
    profile: chosen,
    // The first group is a bijection of the serial, so ids never collide within a tenant.
    externalId: guid(fmix32((serial ^ tenant.seed) >>> 0), rng),
    displayName: `${tenant.organization} - ${PLATFORM_LABELS[chosen.platform]} - ${chosen.label}${audience}`,
    baseValues,
    age: 30 * 24 * 60 + rng.below(700 * 24 * 60),
    versionBase: 1 + rng.below(12),
  };
}

/** Each modification moves 1–3 distinct settings to a different value, so it is never a no-op on its own. */
function valuesAt(
  tenant: Tenant,
  identity: PolicyIdentity,
  modifiedIn: number[] | undefined,
  generation: number,
): Uint8Array {
  const values = identity.baseValues.slice();
  const { knobs } = identity.profile;
  for (const modification of modifiedIn ?? []) {
    if (modification > generation) break;
    const rng = new Rng(seedOf(tenant.seed, SALT_MODIFY, identity.serial, modification));
    const slots = knobs.map((_, slot) => slot);
    const count = Math.min(slots.length, 1 + rng.below(3));
    for (let i = 0; i < count; i++) {
      const j = i + rng.below(slots.length - i);
      [slots[i], slots[j]] = [slots[j], slots[i]];
      const slot = slots[i];
      const size = knobs[slot].domain.length;
      values[slot] = (values[slot] + 1 + rng.below(size - 1)) % size;
    }
  }
  return values;
}

function sameValues(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** Share of arrays the provider returns in a different order on a given read. */
const REORDER_CHANCE = 0.3;

class RenderContext {
  readonly rng: Rng;
  private readonly created: string;
  private readonly modified: string;
  private readonly etag: string;
  private readonly version: number;

  constructor(
    tenant: Tenant,
    readonly identity: PolicyIdentity,
    readonly values: Uint8Array,
    at: { generation: number; bornIn: number },
  ) {
    this.rng = new Rng(seedOf(tenant.seed, SALT_RENDER, identity.serial, at.generation));
    const createdAt = at.bornIn === 0 ? EPOCH - identity.age * MINUTE : EPOCH + at.bornIn * DAY;
    this.created = timestamp(createdAt);
    this.modified = timestamp(EPOCH + at.generation * DAY + this.rng.below(DAY / MINUTE) * MINUTE);
    this.etag = `W/"${hex8(this.rng.uint32())}${hex8(this.rng.uint32())}"`;
    this.version = identity.versionBase + at.generation;
  }

  fill(kind: FillKind, position: number): unknown {
    switch (kind) {
      case 'externalId':
        return this.identity.externalId;
      case 'displayName':
        return this.identity.displayName;
      case 'created':
        return this.created;
      case 'modified':
        return this.modified;
      case 'etag':
        return this.etag;
      case 'version':
        return this.version;
      case 'versionString':
        return String(this.version);
      case 'position':
        return String(position);
      case 'freshId':
        return guid(this.rng.uint32(), this.rng);
    }
  }
}

function render(node: Node, ctx: RenderContext, position: number): unknown {
  if (node === null || typeof node !== 'object') return node;
  if (node instanceof Knob) return render(node.domain[ctx.values[node.slot]], ctx, position);
  if (node instanceof Fill) return ctx.fill(node.kind, position);
  if (isNodeArray(node)) {
    const order =
      node.length > 1 && ctx.rng.chance(REORDER_CHANCE) ? shuffledOrder(node.length, ctx.rng) : null;
    const out: unknown[] = [];
    for (let i = 0; i < node.length; i++) out.push(render(node[order ? order[i] : i], ctx, i));
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key in node) out[key] = render(node[key], ctx, position);
  return out;
}

function isNodeArray(node: object): node is readonly Node[] {
  return isArray(node);
}

function shuffledOrder(length: number, rng: Rng): number[] {
  const order: number[] = [];
  for (let i = 0; i < length; i++) order.push(i);
  for (let i = length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function renderPolicy(
  tenant: Tenant,
  identity: PolicyIdentity,
  values: Uint8Array,
  at: { generation: number; bornIn: number },
): SourcePolicy {
  const ctx = new RenderContext(tenant, identity, values, at);
  return {
    externalId: identity.externalId,
    policyType: identity.profile.policyType,
    displayName: identity.displayName,
    platform: identity.profile.platform,
    payload: render(identity.profile.skeleton, ctx, 0) as Record<string, unknown>,
  };
}
