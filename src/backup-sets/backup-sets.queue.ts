export const BACKUP_QUEUE = 'backup-sets';
export const BACKUP_ADD_POLICIES = 'backup_set.add_policies';
