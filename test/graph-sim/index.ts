export { APP_PROTECTION_COLLECTIONS, COLLECTIONS, CATALOG_PAGE_SIZE, DEFAULT_PAGE_SIZE } from './collections';
export type { CollectionSpec, GraphVersion, NavSpec } from './collections';
export { CLIENT_ASSERTION_TYPE } from './entra';
export type { FaultAction, FaultRule } from './faults';
export {
  COLLECTION_NAMES,
  DEFAULT_FIXTURE_FILE,
  GRAPH_SIM_DIR,
  READ_PERMISSIONS,
  fixturePolicyCount,
  loadFixture,
} from './fixture';
export type { CollectionName, FixtureApp, GraphDoc, TenantFixture } from './fixture';
export {
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  DEFAULT_FIXTURE_OPTIONS,
  DEFAULT_TENANT_ID,
  generateTenant,
  spreadCounts,
} from './generator';
export type { GenerateOptions } from './generator';
export { CA_FILE, GraphSimulator } from './simulator';
export type {
  AddAppOptions,
  GraphSimulatorOptions,
  RequestLogEntry,
  Service,
  TokenRequestEntry,
} from './simulator';
export { minimumRequests } from './requests';
