import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { RunFailure } from './failure-sanitizer';
import { runType, RunStatus, StatusBucket } from './run-status';

/** One long-running action: what was asked, by whom, for which tenant, how far it got, what failed. */
@Entity('operation_runs')
export class OperationRun {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ name: 'tenant_id', type: 'int' })
  tenantId: number;

  @Column({ name: 'user_id', type: 'int', nullable: true })
  userId: number | null;

  @Column({ type: 'varchar' })
  resource: string;

  @Column({ type: 'varchar' })
  action: string;

  @Column({ type: 'varchar' })
  status: RunStatus;

  @Column({ name: 'status_bucket', type: 'varchar' })
  statusBucket: StatusBucket;

  @Column({ name: 'total_items', type: 'int' })
  totalItems: number;

  @Column({ name: 'processed_items', type: 'int' })
  processedItems: number;

  @Column({ type: 'int' })
  succeeded: number;

  @Column({ type: 'int' })
  failed: number;

  @Column({ type: 'int' })
  skipped: number;

  @Column({ name: 'item_ids', type: 'simple-json', nullable: true })
  itemIds: string[] | null;

  @Column({ type: 'simple-json', nullable: true })
  payload: Record<string, unknown> | null;

  @Column({ type: 'simple-json', nullable: true })
  failures: RunFailure[] | null;

  @Column({ name: 'failures_omitted', type: 'int' })
  failuresOmitted: number;

  @Column({ name: 'idempotency_key', type: 'varchar', nullable: true })
  idempotencyKey: string | null;

  @Column({ name: 'active_key', type: 'varchar', nullable: true })
  activeKey: string | null;

  @Column({ name: 'job_id', type: 'varchar', nullable: true })
  jobId: string | null;

  @Column({ type: 'int' })
  attempts: number;

  @Column({ name: 'parent_run_id', type: 'int', nullable: true })
  parentRunId: number | null;

  @Column({ name: 'created_at', type: 'datetime' })
  createdAt: Date;

  @Column({ name: 'started_at', type: 'datetime', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'datetime', nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'updated_at', type: 'datetime' })
  updatedAt: Date;

  runType(): string {
    return runType(this.resource, this.action);
  }
}
