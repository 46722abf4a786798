import { getQueueToken } from '@nestjs/bull';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import type { Module as NestModule } from '@nestjs/core/injector/module';
import { PRODUCER_DECLARATION, ProducerDeclaration } from './producer-declaration';
import { RUN_PRODUCER, RunHandler, RunTypeDefinition } from './producer';

export interface RegisteredRunType extends RunTypeDefinition {
  queue: string;
  handler: RunHandler;
  producer: string;
}

export class DuplicateRunTypeError extends Error {}
export class RunTypeQueueError extends Error {}

/**
 * Every run type the app knows, found at boot from the providers marked @RunProducer. Each type's
 * queue is the one its module declared with RunsModule.forProducer({ queue }), and boot stops with
 * a message saying what to do when a type is registered twice, names a queue nobody registered, or
 * names one other than its module's.
 */
@Injectable()
export class RunTypeRegistry implements OnModuleInit {
  private readonly logger = new Logger('RunTypeRegistry');
  private readonly types = new Map<string, RegisteredRunType>();
  private readonly declarations = new Set<ProducerDeclaration>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
  ) {}

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
      const queue = this.queueOf(def, metatype.name, wrapper.host);
      this.register({ ...def, queue }, instance as RunHandler, metatype.name);
    }
    this.logger.log(`run types: ${[...this.types.keys()].sort().join(', ') || '(none)'}`);
  }

  register(def: RunTypeDefinition & { queue: string }, handler: RunHandler, producer: string): void {
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

  /** The queue a handler's jobs go to: its module's declaration, checked against its own. */
  private queueOf(def: RunTypeDefinition, producer: string, host: NestModule | undefined): string {
    const declared = host ? declarationOf(host) : undefined;
    if (declared) this.declarations.add(declared);
    const queue = def.queue ?? declared?.queue;
    const where = `Run type "${def.type}" (${producer})`;
    if (!queue) {
      throw new RunTypeQueueError(
        `${where} has no queue: import RunsModule.forProducer({ queue: '<name>' }) in its module.`,
      );
    }
    if (declared && def.queue && def.queue !== declared.queue) {
      throw new RunTypeQueueError(
        `${where} names queue "${def.queue}", but its module declares "${declared.queue}" with RunsModule.forProducer: leave the queue out of @RunProducer.`,
      );
    }
    try {
      this.moduleRef.get(getQueueToken(queue), { strict: false });
    } catch {
      throw new RunTypeQueueError(
        `${where} names queue "${queue}", which no module registered: import RunsModule.forProducer({ queue: '${queue}' }) in its module.`,
      );
    }
    return queue;
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

  /** Types offered in the start menu, by label. */
  startable(): RegisteredRunType[] {
    return this.all().filter((t) => t.start);
  }

  /** Producers' tables of rows keyed by run (tableMigration with a run_id): pruned with their runs. */
  runRowTables(): Array<{ table: string; column: string }> {
    return [...this.declarations].flatMap((d) =>
      (d.migrations ?? []).flatMap((m) => (m.runRows ? [m.runRows] : [])),
    );
  }

  queues(): string[] {
    return [...new Set([...this.types.values()].map((t) => t.queue))];
  }
}

/** The RunsModule.forProducer declaration a module imports, if any. */
function declarationOf(host: NestModule): ProducerDeclaration | undefined {
  for (const imported of host.imports) {
    const wrapper = imported.providers.get(PRODUCER_DECLARATION);
    if (wrapper?.instance) return wrapper.instance as ProducerDeclaration;
  }
  return undefined;
}
