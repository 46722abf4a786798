import type { MigrationClass } from '../database/module-migrations';

export type { MigrationClass };

/** What a producer module declares with RunsModule.forProducer. */
export interface ProducerDeclaration {
  /** The Bull queue of its run types; registered by forProducer, so it is written once. */
  queue: string;
  /** Its own tables, created and changed with the app's migrations, in timestamp order. */
  migrations?: MigrationClass[];
}

export const PRODUCER_DECLARATION = Symbol('PRODUCER_DECLARATION');
