import { Injectable, Module } from '@nestjs/common';
import { ProducerRunContext, RunHandler, RunProducer, RunsModule } from '../src/runs';

export const BENCH_QUEUE = 'bench';
export const BENCH_ECHO = 'bench.echo';

/**
 * The smallest real producer: one item, recorded through the hub. What it costs end to end is the
 * hub's bookkeeping (run row, counters, events, notifications, job) and nothing else.
 */
@RunProducer({ type: BENCH_ECHO, label: 'Bench echo' })
@Injectable()
export class BenchEchoHandler implements RunHandler {
  async handle(ctx: ProducerRunContext): Promise<void> {
    await ctx.record([{ itemId: ctx.itemIds[0] ?? 'item', result: 'succeeded' }]);
  }
}

@Module({
  imports: [RunsModule.forProducer({ queue: BENCH_QUEUE })],
  providers: [BenchEchoHandler],
})
export class BenchProducerModule {}
