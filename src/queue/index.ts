/** Bull's root configuration, the embedded Redis and the Bull board. */
export { QueueModule } from './queue.module';
export { QUEUE_BOARD_GATE, QUEUE_BOARD_ROUTE, QueueBoard } from './queue-board';
export type { QueueBoardGate } from './queue-board';
export { resolveRedis } from './embedded-redis';
export type { RedisHandle } from './embedded-redis';
export { BusCache, CacheBus, CacheBusModule } from './cache-bus';
