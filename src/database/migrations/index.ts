import { Foundation1764100000000 } from './1764100000000-foundation';
import { Runs1764200000000 } from './1764200000000-runs';
import { InventoryDriftNotifications1764300000000 } from './1764300000000-inventory-drift-notifications';
import { BackupSets1764400000000 } from './1764400000000-backup-sets';
import { RunOperations1764500000000 } from './1764500000000-run-operations';
import { Hardening1764600000000 } from './1764600000000-hardening';
import { RunSubjects1764700000000 } from './1764700000000-run-subjects';
import { People1765000000000 } from './1765000000000-people';
import { GraphConnections1765100000000 } from './1765100000000-graph-connections';
import { LongExternalIds1765200000000 } from './1765200000000-long-external-ids';
import { RunRetryWait1765300000000 } from './1765300000000-run-retry-wait';
import { OperationsTableTools1765400000000 } from './1765400000000-operations-table-tools';
import { UserPreferences1765500000000 } from './1765500000000-user-preferences';

/** Applied in this order at boot; timestamps only ever grow. */
export const MIGRATIONS = [
  Foundation1764100000000,
  Runs1764200000000,
  InventoryDriftNotifications1764300000000,
  BackupSets1764400000000,
  RunOperations1764500000000,
  Hardening1764600000000,
  RunSubjects1764700000000,
  People1765000000000,
  GraphConnections1765100000000,
  LongExternalIds1765200000000,
  RunRetryWait1765300000000,
  OperationsTableTools1765400000000,
  UserPreferences1765500000000,
];
