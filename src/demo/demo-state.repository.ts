import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { Dialect } from '../database/dialect';
import type { ProviderFault } from '../policies/policy-source';
import { readNum } from '../database/sql';

export const FAULT_OPERATIONS = ['list', 'get', 'labels'] as const;
export type FaultOperation = (typeof FAULT_OPERATIONS)[number];

export interface DemoState {
  generation: number;
  size: number;
  fault: ProviderFault | null;
  faultOperations: FaultOperation[];
  faultMessage: string | null;
  latencyMs: number;
}

const STATE_COLUMNS = ['generation', 'size', 'fault', 'fault_operations', 'fault_message', 'latency_ms'];

/** The demo_source_state table: the synthetic tenant's generation, size and simulated faults. */
@Injectable()
export class DemoStateRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async get(tenantId: number): Promise<DemoState> {
    const [row] = await this.db.query(
      `SELECT ${STATE_COLUMNS.join(', ')} FROM demo_source_state WHERE tenant_id = ?`,
      [tenantId],
    );
    return {
      generation: readNum(row?.generation),
      size: row?.size === undefined || row?.size === null ? 300 : readNum(row.size),
      fault: (row?.fault as ProviderFault | null | undefined) ?? null,
      faultOperations: row?.fault_operations
        ? (String(row.fault_operations).split(',') as FaultOperation[])
        : [],
      faultMessage: (row?.fault_message as string | null | undefined) ?? null,
      latencyMs: readNum(row?.latency_ms),
    };
  }

  async save(tenantId: number, s: DemoState): Promise<void> {
    const set = [...STATE_COLUMNS, 'updated_at'];
    const upsert = this.dialect.upsert(
      'demo_source_state',
      ['tenant_id', ...set],
      [
        [
          tenantId,
          s.generation,
          s.size,
          s.fault,
          s.faultOperations.join(',') || null,
          s.faultMessage,
          s.latencyMs,
          this.dialect.date(new Date()),
        ],
      ],
      ['tenant_id'],
      set,
    );
    await this.db.exec(upsert.sql, upsert.params);
  }
}
