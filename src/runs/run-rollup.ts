export interface RollupKey {
  tenantId: number;
  createdAt: Date;
  resource: string;
  action: string;
}

/** The UTC calendar day a run belongs to in the chart: the day it was created. */
export function rollupDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}
