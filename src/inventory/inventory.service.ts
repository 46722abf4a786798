import { Injectable } from '@nestjs/common';
import { PoliciesService } from '../policies';
import { RunsService, StartRunResult } from '../runs';
import { INVENTORY_SYNC } from './inventory.queue';

/** The inventory producer's facade: starting a sync. */
@Injectable()
export class InventoryService {
  constructor(
    private readonly runs: RunsService,
    private readonly policies: PoliciesService,
  ) {}

  /** Starts inventory.sync, or returns the sync already queued or running for the tenant. */
  async startSync(tenantId: number, userId: number | null): Promise<StartRunResult> {
    return this.runs.start({
      tenantId,
      userId,
      type: INVENTORY_SYNC,
      idempotencyKey: INVENTORY_SYNC,
      payload: { source: await this.policies.sourceNameOf(tenantId) },
    });
  }
}
