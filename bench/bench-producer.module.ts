import { BullModule } from '@nestjs/bull';
import { Injectable, Module } from '@nestjs/common';
import { RunContext } from '../src/runs/run-context';
import { RunHandler, RunProducer } from '../src/runs/run-types.registry';
import { RunsModule } from '../src/runs/runs.module';

export const BENCH_QUEUE = 'bench';
export const BENCH_ECHO = 'bench.echo';

/**
 * The smallest real producer: one item, recorded through the hub. What it costs end to end is the
 * hub's bookkeeping (run row, counters, events, notifications, job) and nothing else.
 */
@RunProducer({ type: BENCH_ECHO, label: 'Bench echo', queue: BENCH_QUEUE })
@Injectable()
export class BenchEchoHandler implements RunHandler {
  async handle(ctx: RunContext): Promise<void> {
    await ctx.record([{ itemId: ctx.itemIds[0] ?? 'item', result: 'succeeded' }]);
  }
}

@Module({
  imports: [RunsModule, BullModule.registerQueue({ name: BENCH_QUEUE })],
  providers: [BenchEchoHandler],
})
export class BenchProducerModule {}
