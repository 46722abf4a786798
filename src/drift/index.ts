/** The drift producer's public face. */
export { DriftModule } from './drift.module';
export { DriftService } from './drift.service';
export { DRIFT_GENERATE, DRIFT_QUEUE } from './drift.queue';
export { diffPayloads, diffSnapshots, findingFingerprint, scopeKey } from './drift-diff';
export type { ChangeType, DriftFinding, SettingChange, SnapshotItem } from './drift-diff';
