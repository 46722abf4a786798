import type { MigrationInterface } from 'typeorm';

/** A migration class of a producer's own tables (TypeORM's: a name ending in a 13-digit timestamp). */
export type MigrationClass = new () => MigrationInterface;

/** What a producer module declares with RunsModule.forProducer. */
export interface ProducerDeclaration {
  /** The Bull queue of its run types; registered by forProducer, so it is written once. */
  queue: string;
  /** Its own tables, created and changed with the app's migrations, in timestamp order. */
  migrations?: MigrationClass[];
}

export const PRODUCER_DECLARATION = Symbol('PRODUCER_DECLARATION');
