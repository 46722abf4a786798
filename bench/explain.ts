import type { DataSource } from 'typeorm';

export interface PlanRow {
  table: string;
  type: string;
  key: string | null;
  rows: number;
  /** Rows actually read (MariaDB ANALYZE), when the statement was run. */
  rRows?: number;
  extra: string;
}

function toPlan(raw: Record<string, unknown>): PlanRow {
  return {
    table: String(raw.table ?? ''),
    type: String(raw.type ?? ''),
    key: raw.key === null || raw.key === undefined ? null : String(raw.key),
    rows: Number(raw.rows ?? 0),
    rRows: raw.r_rows === undefined || raw.r_rows === null ? undefined : Number(raw.r_rows),
    extra: String(raw.Extra ?? ''),
  };
}

/**
 * The plan MariaDB picks, and — through ANALYZE, which runs the statement — how many rows each table
 * really gave, so a LIMIT that stops early shows as r_rows ≈ 26 whatever the table's size.
 */
export async function explain(ds: DataSource, sql: string, params: unknown[]): Promise<PlanRow[]> {
  const raw: Record<string, unknown>[] = await ds.query(`ANALYZE ${sql}`, params);
  return raw.map(toPlan);
}

/** A plan that reads the whole table or sorts outside an index. */
export function badPlan(p: PlanRow): boolean {
  return p.type === 'ALL' || /filesort|temporary/i.test(p.extra);
}

export function planText(plan: PlanRow[]): string {
  return plan
    .map(
      (p) =>
        `${p.table}: ${p.type} ${p.key ?? '(no key)'} rows≈${p.rows}${p.rRows === undefined ? '' : ` read=${p.rRows}`}${p.extra ? ` [${p.extra}]` : ''}`,
    )
    .join('; ');
}
