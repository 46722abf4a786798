import { Injectable, Logger, OnModuleInit, SetMetadata } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { RunContext } from './run-context';

export interface RelatedLink {
  label: string;
  href: string;
  description?: string;
}

/** A readable line of the run's producer context on the detail page. */
export interface ContextLine {
  label: string;
  value: string;
  href?: string;
}

/** What the hub hands to a producer's callbacks: the run's tenant slug for building links, and its fields. */
export interface RunLinkContext {
  id: number;
  tenantSlug: string;
  payload: Record<string, unknown>;
  status: string;
  itemIds: string[] | null;
}

export interface RunTypeDefinition {
  /** resource.action, e.g. "drift.generate" */
  type: string;
  /** Shown in lists and filters, e.g. "Drift generation" */
  label: string;
  /** The Bull queue (registered by the producer's module) its jobs go to. */
  queue: string;
  /** Links for the run detail's Related section. */
  related?(run: RunLinkContext): RelatedLink[] | Promise<RelatedLink[]>;
  /** The payload in words for the detail page; defaults to its keys and values. */
  describe?(run: RunLinkContext): ContextLine[] | Promise<ContextLine[]>;
  /** Jobs of this type processed at once per worker; defaults to QUEUE_CONCURRENCY. */
  concurrency?: number;
}

/** A producer's job logic: runs inside a worker with a context that records outcomes on the run. */
export interface RunHandler {
  handle(ctx: RunContext): Promise<void>;
}

export interface RegisteredRunType extends RunTypeDefinition {
  handler: RunHandler;
  producer: string;
}

const RUN_PRODUCER = Symbol('RUN_PRODUCER');

/**
 * Marks a provider as the handler of a run type. The hub finds it at boot, so a producer module
 * plugs in by declaring the provider — nothing in src/runs changes.
 */
export const RunProducer = (definition: RunTypeDefinition) => SetMetadata(RUN_PRODUCER, definition);

export class DuplicateRunTypeError extends Error {}

@Injectable()
export class RunTypeRegistry implements OnModuleInit {
  private readonly logger = new Logger('RunTypeRegistry');
  private readonly types = new Map<string, RegisteredRunType>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const { metatype, instance } = wrapper;
      if (!metatype || !instance) continue;
      const def = Reflect.getMetadata(RUN_PRODUCER, metatype) as RunTypeDefinition | undefined;
      if (!def) continue;
      if (typeof (instance as RunHandler).handle !== 'function') {
        throw new Error(
          `${metatype.name} is marked @RunProducer("${def.type}") but has no handle(ctx) method`,
        );
      }
      this.register(def, instance as RunHandler, metatype.name);
    }
    this.logger.log(`run types: ${[...this.types.keys()].sort().join(', ') || '(none)'}`);
  }

  register(def: RunTypeDefinition, handler: RunHandler, producer: string): void {
    if (!/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/.test(def.type)) {
      throw new Error(`Run type "${def.type}" (${producer}) must look like resource.action in snake_case`);
    }
    const existing = this.types.get(def.type);
    if (existing) {
      throw new DuplicateRunTypeError(
        `Run type "${def.type}" is registered twice: by ${existing.producer} and by ${producer}. Each run type needs exactly one producer.`,
      );
    }
    this.types.set(def.type, { ...def, handler, producer });
  }

  get(type: string): RegisteredRunType | undefined {
    return this.types.get(type);
  }

  require(type: string): RegisteredRunType {
    const t = this.types.get(type);
    if (!t) throw new Error(`Unknown run type "${type}": no producer registered it`);
    return t;
  }

  has(type: string): boolean {
    return this.types.has(type);
  }

  labelOf(type: string): string {
    return this.types.get(type)?.label ?? type;
  }

  /** The registered type names (for validating a type filter). */
  typeNames(): ReadonlySet<string> {
    return new Set(this.types.keys());
  }

  all(): RegisteredRunType[] {
    return [...this.types.values()].sort((a, b) => a.label.localeCompare(b.label));
  }

  queues(): string[] {
    return [...new Set([...this.types.values()].map((t) => t.queue))];
  }
}
