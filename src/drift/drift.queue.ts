export const DRIFT_QUEUE = 'drift';
export const DRIFT_GENERATE = 'drift.generate';
