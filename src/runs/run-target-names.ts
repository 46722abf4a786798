import { Injectable } from '@nestjs/common';
import { BusCache, CacheBus } from '../queue';

const TOPIC = 'runs:targets';
/** How many (tenant, target) pairs a process remembers having announced. */
const ANNOUNCED_MAX = 10_000;

/**
 * The target names a search resolves to (per tenant and typed text), kept per process until a run
 * with a target this process has not announced yet is started, in any process, for that tenant; or
 * until runs are pruned (names may then be gone). A list search then costs its run walk alone.
 */
@Injectable()
export class RunTargetNames {
  private readonly cache: BusCache<string[]>;
  private readonly announced = new Set<string>();

  constructor(private readonly bus: CacheBus) {
    this.cache = new BusCache(bus, TOPIC);
  }

  /** The names of one tenant's targets starting with `text` (read-only), from the cache or `load`. */
  get(tenantId: number, text: string, load: () => Promise<string[]>): Promise<string[]> {
    return this.cache.get(tenantId, text, load);
  }

  /** A run with this target is stored: a name the searches of its tenant may not know yet. */
  async added(tenantId: number, target: string | null): Promise<void> {
    if (target === null) return;
    const key = `${tenantId}|${target}`;
    if (this.announced.has(key)) return;
    if (this.announced.size >= ANNOUNCED_MAX) this.announced.clear();
    this.announced.add(key);
    await this.bus.invalidate(TOPIC, [tenantId]);
  }

  /** Runs were removed: names may have gone with them. */
  async pruned(): Promise<void> {
    this.announced.clear();
    await this.bus.invalidate(TOPIC, 'all');
  }
}
