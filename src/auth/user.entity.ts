import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('users')
export class User {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar' })
  email: string;

  @Column({ type: 'varchar' })
  name: string;

  @Column({ name: 'password_hash', type: 'varchar', select: false })
  passwordHash: string;

  /** Platform operations staff: may see the Bull board. */
  @Column({ name: 'is_ops', type: 'boolean', default: false })
  isOps: boolean;

  @Column({ name: 'created_at', type: 'datetime' })
  createdAt: Date;
}
