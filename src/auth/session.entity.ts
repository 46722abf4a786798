import { ISession } from 'connect-typeorm';
import { Column, DeleteDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** Server-side sessions live in the database so every web process shares them and Redis stays optional for pages. */
@Entity('sessions')
export class SessionRow implements ISession {
  @Index()
  @Column('bigint')
  expiredAt = Date.now();

  @PrimaryColumn('varchar', { length: 255 })
  id = '';

  @Column('text')
  json = '';

  @DeleteDateColumn({ type: 'datetime', nullable: true })
  destroyedAt?: Date;
}
